# ALBERT-base exported without its pooler output (optimum's feature-extraction task): houlsby.adp
# beside this file, classifying from the first token ([CLS]).
import "houlsby.adp"

train {
  head classifier(labels 2, from first_token)
}
