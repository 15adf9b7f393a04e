# Activation ablation: tanh as the adapter's nonlinearity instead of GELU.
import "houlsby.adp"

override adapter bottleneck {
  activation tanh
}
