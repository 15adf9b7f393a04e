# Exact identity initialization: the up-projection starts at zero, so the adapted model computes
# exactly what the original does before the first training step.
import "houlsby.adp"

override adapter bottleneck {
  init identity(std 1e-2)
}
