# The parallel adapter (He et al. 2022) compared with AdapterHub's ParBnConfig: beside the FFN and
# the attention block (mh_adapter), size 64 (reduction 6 of hidden 384), ReLU, scaling 4, and a
# one-layer classifier on the first token; adapters and head train. Initialized normal(std 0.02)
# so that the first step's gradients reach every adapter weight (mam's zero up-projection would
# leave the down-projection's gradient zero).
adapter par {
  size 64
  activation relu
  init normal(std 0.02)
  parallel(scaling 4)
}

train {
  trainable adapters, head
  head classifier(labels 2, from first_token)
  optimizer adamw(lr 1e-3, weight_decay 0)
  schedule constant
}

place par after attention, ffn in layers all
