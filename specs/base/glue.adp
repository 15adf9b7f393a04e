# The shared base of the specs in this folder: the paper's bottleneck adapter and a GLUE-style
# sentence classification setup. It places nothing itself; the variants import it and place.
adapter bottleneck {
  size 64
  activation gelu
  init normal(std 1e-2, truncate 2)
}

train {
  trainable adapters, layernorm, head
  head classifier(labels 2, from pooled)
  loss cross_entropy
  optimizer adamw(lr 1e-4, weight_decay 0.01)
  schedule linear(warmup 10%)
}

target cuda
seed 42
