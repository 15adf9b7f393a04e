# Houlsby adapters (size 64, after attention and FFN, every layer) on the real MiniLM exports, with a
# one-layer classifier on the first token ([CLS]): some exports drop the pooler (optimum's
# feature-extraction), and AdapterHub's classification head reads the first token too.
import "../../specs/base/glue.adp"

train {
  head classifier(labels 2, from first_token)
}

place bottleneck after attention in layers all
place bottleneck after ffn in layers all
