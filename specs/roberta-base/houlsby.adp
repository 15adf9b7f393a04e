# RoBERTa-base (12 layers, hidden 768; roberta-base, RobertaModel): the paper's size-64 adapters
# after attention and feed-forward in every layer, classifying from the first token (<s>), as
# RobertaForSequenceClassification does: RobertaModel has a pooler, but RoBERTa's pretraining never
# trained it. No token types (one type row), position ids counted from the token ids.
import "../houlsby.adp"

train {
  head classifier(labels 2, from first_token)
}
