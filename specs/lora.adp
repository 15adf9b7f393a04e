# Hu et al. 2021 (LoRA) as PEFT applies it to BERT: a rank-8 update W + (alpha / r) · A·B of the
# attention query and value projections in every layer (PEFT's default targets for BERT), A drawn
# Kaiming-uniform and B zero, so training starts from the unchanged model. Only the LoRA matrices
# and the classifier train (LayerNorms stay frozen, as in the paper).
import "base/glue.adp"

adapter lora_qv {
  lora(rank 8, alpha 16)
}

place lora_qv on query, value in layers all

train {
  trainable adapters, head
  optimizer adamw(lr 5e-4, weight_decay 0.01)
}
