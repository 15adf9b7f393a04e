# He et al. 2022 ("Towards a Unified View of Parameter-Efficient Transfer Learning"): a parallel
# adapter beside the feed-forward block, adding s · up(f(down(x))) of the block's input x to its
# output, before the residual Add + LayerNorm; scaling 4 and AdapterHub's par_bn defaults
# (reduction 2, ReLU, the mam initialization: Kaiming-uniform down-projection, zero up-projection).
import "base/glue.adp"

adapter parallel_ffn {
  reduction 2
  activation relu
  init mam
  parallel(scaling 4)
}

place parallel_ffn after ffn in layers all
