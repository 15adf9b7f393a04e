# MiniLM (a BertModel of 6 layers, hidden 384, e.g. sentence-transformers/all-MiniLM-L6-v2, the
# interop tier's model): the paper's size-64 adapters after attention and feed-forward in every
# layer (595,200 parameters), classifying from the first token: sentence-transformers trained the
# encoder with mean pooling, not its pooler, and optimum's export drops the pooler output.
import "../houlsby.adp"

train {
  head classifier(labels 2, from first_token)
}
