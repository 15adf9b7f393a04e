# XLM-RoBERTa-base (12 layers, hidden 768, a vocabulary of 250,002; xlm-roberta-base): RoBERTa's
# architecture, so RoBERTa-base's spec (first-token classifier, size-64 adapters in every layer).
import "../roberta-base/houlsby.adp"
