# DistilBERT (6 layers, hidden 768; distilbert-base-uncased, DistilBertModel): no pooler and no token
# types, so the classifier reads the first token ([CLS]), as DistilBertForSequenceClassification
# does (here one dense layer; DistilBERT's adds a ReLU layer before it). The paper's size-64
# adapters after attention and feed-forward in each of the 6 layers (1,189,632 parameters).
import "../houlsby.adp"

train {
  head classifier(labels 2, from first_token)
}
