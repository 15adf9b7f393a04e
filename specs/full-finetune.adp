# The baseline adapters are compared with: full fine-tuning, every parameter of BERT trains and no
# adapters are inserted (Houlsby et al. 2019, Table 1, "BERT-LARGE" rows).
import "base/glue.adp"

train {
  trainable all
  optimizer adamw(lr 3e-5, weight_decay 0.01)
}
