"""Prompt files: a version line, then ---system and ---user parts with ${variables}.

Rendering fails on a missing variable, so a prompt can never go out half filled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


class PromptError(Exception):
    pass


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str

    def render(self, **values: object) -> list[dict[str, str]]:
        try:
            return [
                {"role": "system", "content": Template(self.system).substitute(values)},
                {"role": "user", "content": Template(self.user).substitute(values)},
            ]
        except KeyError as exc:
            raise PromptError(f"prompt {self.name}: no value for ${{{exc.args[0]}}}") from None


def load_prompt(name: str, folder: Path = PROMPTS) -> Prompt:
    path = folder / f"{name}.txt"
    text = path.read_text(encoding="utf-8")
    m = re.match(r"version:\s*(\S+)\s*\n---system\n(.*?)\n---user\n(.*)\Z", text, re.S)
    if not m:
        raise PromptError(f"{path}: expected a version line, ---system and ---user parts")
    return Prompt(name=name, version=m.group(1), system=m.group(2).strip(), user=m.group(3).strip())
