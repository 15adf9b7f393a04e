# Houlsby et al. 2019, Section 3.6 ablation: adapters in the top layers 6..11 of a 12-layer BERT-base
# only; removing the lower layers' adapters costs little, removing the top ones costs most. Only the
# top layers' LayerNorms train too, so the backward pass stops halfway down the network.
import "base/glue.adp"

place bottleneck after attention, ffn in layers 6..11

train {
  trainable adapters, layernorm in layers 6..11, head
}
