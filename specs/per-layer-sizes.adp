# Different sizes per layer: a small adapter in the first layer and large ones from layer 1 up to
# the top (-1 is the last layer), where the paper's ablation found adapters matter most.
import "base/glue.adp"

place bottleneck(size 16) after attention, ffn in layer 0
place bottleneck(size 256) after attention, ffn in layers 1..-1
