# The setting compared with AdapterHub's DoubleSeqBnConfig (Houlsby): bottleneck 64 (reduction factor
# 6 of hidden 384), GELU, after attention and FFN in every layer; adapters and a one-layer classifier on
# the first token train (AdapterHub's train_adapter freezes the LayerNorms); AdamW as torch.optim.AdamW
# with one weight decay for every parameter; a constant rate.
import "../../specs/base/glue.adp"

train {
  trainable adapters, head
  head classifier(labels 2, from first_token)
  optimizer adamw(lr 1e-3, weight_decay 0.01)
  schedule constant
}

place bottleneck after attention in layers all
place bottleneck after ffn in layers all
