# BERT-large (24 layers, hidden 1024; bert-large-uncased), the model of the paper's GLUE results:
# adapters of size 64 (Table 1's fixed-size row) after the attention and feed-forward output
# projections of every layer (6,343,680 parameters), classifying from BERT's pooler.
import "../houlsby.adp"
