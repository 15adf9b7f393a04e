# MPNet-base (12 layers, hidden 768; microsoft/mpnet-base, MPNetModel): relative position buckets in
# attention, no token types. The paper's size-64 adapters after attention and feed-forward in every
# layer, classifying from the first token, as MPNetForSequenceClassification does (MPNetModel's
# pooler is not what its classifier reads).
import "../houlsby.adp"

train {
  head classifier(labels 2, from first_token)
}
