# DeBERTa-v3-base (12 layers, hidden 768; microsoft/deberta-v3-base, DebertaV2Model): disentangled
# attention (content and relative-position terms) inside the attention block, post-LayerNorm like
# BERT, so the adapter sites are BERT's: after the attention output projection and after the
# feed-forward output projection, size 64, every layer. No pooler in the model: the classifier
# reads the first token, as DebertaV2ForSequenceClassification's ContextPooler does.
import "../houlsby.adp"

train {
  head classifier(labels 2, from first_token)
}
