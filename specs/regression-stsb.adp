# A regression task like STS-B (GLUE): one output, a similarity score, trained with mean squared
# error; adapters as in houlsby.adp.
import "houlsby.adp"

train {
  head classifier(labels 1, from pooled)
  loss mse
}
