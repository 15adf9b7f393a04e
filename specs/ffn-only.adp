# Ablation: adapters only after the feed-forward output projection (none after attention).
import "base/glue.adp"

place bottleneck after ffn in layers all
