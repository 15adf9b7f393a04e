# The step model against the training artifacts: Houlsby adapters on the real MiniLM with a classifier
# on the first token, AdamW without weight decay (ORT's training optimizer cannot exempt no_decay
# parameters, the step model does) at a constant rate.
import "houlsby.adp"

train {
  optimizer adamw(lr 1e-4, weight_decay 0)
  schedule constant
}
