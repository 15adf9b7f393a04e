# Liu et al. 2022 ((IA)³): learned vectors, starting at ones, rescale the attention keys and values
# and the feed-forward block's intermediate activation in every layer; only they and the classifier
# train. The vectors are the smallest adapter there is: 2·d + FFN size parameters per layer.
import "base/glue.adp"

adapter ia3_kvi {
  ia3
}

place ia3_kvi on key, value, intermediate in layers all

train {
  trainable adapters, head
  optimizer adamw(lr 3e-3, weight_decay 0)
}
