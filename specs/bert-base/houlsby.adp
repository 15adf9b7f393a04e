# BERT-base (12 layers, hidden 768; bert-base-uncased, BertModel): Houlsby et al. 2019's adapters of
# size 64 after the attention and feed-forward output projections of every layer (2,379,264
# parameters, about 2.2% of BERT-base), classifying from BERT's pooler (tanh(dense([CLS]))), which
# BertForSequenceClassification reads. An export without the pooler output (optimum's
# feature-extraction task) takes first-token.adp beside this file.
import "../houlsby.adp"
