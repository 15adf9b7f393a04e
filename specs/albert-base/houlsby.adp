# ALBERT-base (12 layers, hidden 768, embeddings of 128 projected up; albert-base-v2, AlbertModel).
# ALBERT runs one layer's weights 12 times; its ONNX export unrolls them, and adapterc gives each of
# the 12 passes its own size-64 adapters after attention and feed-forward (as AdapterHub does for
# ALBERT), so the adapters are not shared though the layer is. Classifies from ALBERT's pooler
# (pretrained by sentence-order prediction), as AlbertForSequenceClassification does. An export
# without the pooler output (optimum's feature-extraction task) takes first-token.adp beside this file.
import "../houlsby.adp"
