# (IA)³ compared with PEFT's IA3Config on the pretrained model (keys, values, and the FFN's
# intermediate activation: PEFT's feedforward case, the FFN out projection's input), and trained for
# the paper table. The vectors start at 1 + N(0, 0.1²) rather than ones, so that the comparison is
# not of an unchanged model; a one-layer classifier on the first token; vectors and head train.
adapter ia3_kvi {
  ia3
  init normal(std 0.1)
}

train {
  trainable adapters, head
  head classifier(labels 2, from first_token)
  optimizer adamw(lr 3e-3, weight_decay 0)
  schedule constant
}

place ia3_kvi on key, value, intermediate in layers all
