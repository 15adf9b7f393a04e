# Initialization scale 1e-3, the default of the paper's reference TensorFlow code (adapter-bert):
# truncated normal at two standard deviations.
import "houlsby.adp"

override adapter bottleneck {
  init normal(std 1e-3, truncate 2)
}
