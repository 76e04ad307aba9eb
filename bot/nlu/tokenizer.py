"""A whitespace tokenizer that folds Vietnamese before splitting.

Rasa's WhitespaceTokenizer splits NFD text at every combining mark, and sees
"khiếu nại" and "khieu nai" as different words. Folding (NFC, lower case, no
diacritics, đ -> d) first makes all spellings one set of tokens, which also
lets the model learn from fewer examples.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.text import fold


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(WhitespaceTokenizer):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return WhitespaceTokenizer.get_default_config()

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        folded = Message(data={attribute: fold(message.get(attribute) or "")})
        return super().tokenize(folded, attribute)
