# ELECTRA-base's discriminator (12 layers, hidden 768; google/electra-base-discriminator,
# ElectraModel): BERT's layers without a pooler, so the classifier reads the first token ([CLS]), as
# ElectraForSequenceClassification does. The paper's size-64 adapters after attention and
# feed-forward in every layer.
import "../houlsby.adp"

train {
  head classifier(labels 2, from first_token)
}
