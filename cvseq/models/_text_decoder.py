"""What the models whose decoder writes text share: the translator, the captioner.

Each keeps its decoder's vocabulary outside the graph (targets arrive as
token ids, so no tokenizer layer is on the training path), under a config
key of its own that saved `.keras` files depend on.
"""

import keras
import numpy as np

from cvseq import generation, text
from cvseq.models.generative import GenerativeModel


def decoder_vocabulary(tokenizer):
    """The JSON-able vocabulary a `TextDecoderModel` keeps, from its tokenizer."""
    config = tokenizer.get_config()
    return {
        "tokens": text.tokens_of(tokenizer),
        "standardize": text.standardize_name(config["standardize"]),
        "split": config["split"],
    }


class TextDecoderModel(GenerativeModel):
    """A functional model with a decoder that writes text, `"[START]"` first.

    Subclasses set `vocabulary_key`: the attribute, and the config key, that
    holds the `decoder_vocabulary` dict (e.g. `"target_vocabulary"`); and
    implement `_batch(inputs) -> (batch, single)` (checks the inputs) and
    `_initial_states(batch) -> states` (runs the encoder: the decoder's
    initial states and whatever `_step` reads, such as attention memory).
    The decoder's teacher-forced input layer is named `"decoder_input"`.
    """

    vocabulary_key = None
    # Inputs encoded and decoded together.
    decode_batch_size = 64
    # Decoder positions beyond `max_length`: "[START]" (and room for "[END]").
    _extra_positions = 1

    def get_config(self):
        config = super().get_config()
        config[self.vocabulary_key] = getattr(self, self.vocabulary_key)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        vocabulary = config.pop(cls.vocabulary_key)
        model = super().from_config(config, custom_objects=custom_objects)
        setattr(model, cls.vocabulary_key, vocabulary)
        return model

    def _decoder_tokenizer(self):
        """A `TextVectorization` with the decoder vocabulary, `[START]`, `[END]`."""
        vocabulary = getattr(self, self.vocabulary_key)
        return keras.layers.TextVectorization(
            standardize=text.standardize_argument(vocabulary["standardize"]),
            split=vocabulary["split"],
            vocabulary=list(vocabulary["tokens"]),
        )

    @property
    def tokenizer(self):
        """A `TextVectorization` with the decoder vocabulary, `[START]`, `[END]`."""
        return self._decoder_tokenizer()

    def _generate(self, inputs, *, max_length, **sampler_options):
        """Encodes `decode_batch_size` inputs at a time, then writes.

        `max_length` (most tokens written) defaults to the longest the
        model learned: decoder positions minus `"[START]"`.
        """
        batch, single = self._batch(inputs)
        if max_length is None:
            max_length = self._decoder_length() - 1
        vectorizer = self.tokenizer
        step = self._decoding_step()
        out = []
        for begin in range(0, len(batch), self.decode_batch_size):
            chunk = batch[begin:begin + self.decode_batch_size]
            out.extend(self._write(
                vectorizer,
                step,
                self._initial_states(chunk),
                batch_size=len(chunk),
                prompt_length=max_length + self._extra_positions,
                max_length=max_length,
                **sampler_options,
            ))
        return out[0] if single else out

    def _decoder_length(self):
        """Decoder positions: `"[START]"` plus the tokens written."""
        return self.get_layer("decoder_input").output.shape[1]

    def _write(self, vectorizer, step, initial_states, *, batch_size, prompt_length,
               max_length, **sampler_options):
        """Decodes from `"[START]"` until `"[END]"`: a list of `batch_size` str.

        `prompt_length` positions are decoded, `"[START]"` included; at most
        `max_length` tokens are kept.
        """
        start = text.token_id(vectorizer, text.START)
        end = text.token_id(vectorizer, text.END)
        prompt = np.zeros((batch_size, prompt_length), "int32")
        prompt[:, 0] = start
        tokens = generation.decode(
            step,
            prompt,
            initial_states=initial_states,
            stop_token_ids=[end],
            suppress_token_ids=[0, 1, start],  # padding, "[UNK]", "[START]"
            **sampler_options,
        )
        rows = generation.generated_ids(tokens, stop_token_ids=[end])
        return text.decode_ids(vectorizer, [row[:max_length] for row in rows])
