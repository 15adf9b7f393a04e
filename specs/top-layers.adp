# Houlsby et al. 2019, Section 3.6 ablation: adapters in the top layers 6..11 of a 12-layer BERT-base
# only; removing the lower layers' adapters costs little, removing the top ones costs most.
import "base/glue.adp"

place bottleneck after attention, ffn in layers 6..11
