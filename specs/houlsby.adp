# Houlsby et al. 2019: a bottleneck adapter of size 64 after the attention output projection and
# after the feed-forward output projection of every layer, each before the residual Add + LayerNorm.
# Adapters, LayerNorms and the classifier train; the rest of BERT stays frozen.
import "base/glue.adp"

place bottleneck after attention in layers all
place bottleneck after ffn in layers all
