# Architecture ablation: a LayerNorm on the adapter's input, before its down-projection.
import "houlsby.adp"

override adapter bottleneck {
  layernorm
}
