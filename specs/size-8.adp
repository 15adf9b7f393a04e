# Houlsby et al. 2019, Section 3.1 sweep over adapter sizes {8, 64, 256}: size 8 at both sites of every layer.
import "houlsby.adp"

override adapter bottleneck {
  size 8
}
