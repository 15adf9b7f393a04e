# Ablation: adapters only after the attention output projection (none after the feed-forward block).
import "base/glue.adp"

place bottleneck after attention in layers all
