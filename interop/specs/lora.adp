# LoRA compared with PEFT's LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"]) on
# the pretrained model, and trained for the paper table. B starts normal(std 0.02) rather than zero
# (PEFT's default, and specs/lora.adp's) so that the first step's gradients reach A too; a
# one-layer classifier on the first token; LoRA and the head train.
adapter lora_qv {
  lora(rank 8, alpha 16)
  init normal(std 0.02)
}

train {
  trainable adapters, head
  head classifier(labels 2, from first_token)
  optimizer adamw(lr 1e-3, weight_decay 0)
  schedule constant
}

place lora_qv on query, value in layers all
