"""#21.11: a hostile chat template is bounded in time and size, and ends in a one-line error."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from probe_tui.core.errors import ProbeError
from probe_tui.core.prompts import ChatTemplate

MESSAGES = [{"role": "user", "content": "hello"}]
HOSTILE = {
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "string repetition": "{{ 'A' * 300000000 }}",
    "list repetition": "{{ ([1] * 300000000) | length }}",
    "doubling": "{% set ns = namespace(s='A') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
    "huge output": "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
    "padding": "{{ 'x' | center(300000000) }}",
    "format width": "{{ '%300000000s' | format('x') }}{{ '%300000000s' % 'x' }}",
    "method width": "{{ 'x'.ljust(300000000) }}",
    "str.format width": "{{ '{:>300000000}'.format('x') }}",
    "power": "{{ 10 ** 100000000 }}",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_template_fails_fast_in_one_line(name):
    started = time.monotonic()
    with pytest.raises(ProbeError, match="chat template failed to render") as caught:
        ChatTemplate(HOSTILE[name]).render(MESSAGES)
    assert time.monotonic() - started < 5
    assert "\n" not in str(caught.value)


def test_an_ordinary_template_still_renders():
    chatml = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
              "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    assert ChatTemplate(chatml).render(MESSAGES) == "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"
    assert getattr(sys.gettrace(), "__name__", None) != "watch"  # the time limit is lifted after rendering


def hostile_gguf(source: Path, target: Path, template: str) -> Path:
    """A copy of a real GGUF whose tokenizer.chat_template is replaced."""
    import gguf

    reader = gguf.GGUFReader(source)
    writer = gguf.GGUFWriter(target, reader.fields["general.architecture"].contents())
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "tokenizer.chat_template"):
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, field.contents(), value_type, sub_type=sub_type)
    writer.add_chat_template(template)
    for tensor in reader.tensors:
        writer.add_tensor_info(tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes, tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        writer.write_tensor_data(tensor.data, tensor_endianess=reader.endianess)
    writer.close()
    return target


def test_the_cli_on_a_model_with_a_hostile_template_ends_in_one_line(smollm2_path, tmp_path):
    model = hostile_gguf(smollm2_path, tmp_path / "hostile.gguf", HOSTILE["nested loops"])
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "probe_tui", "run", "--model", str(model), "--limit", "1", "--output", str(tmp_path / "o.csv")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert errors == [done.stderr.splitlines()[-1]]
    assert errors[0].startswith("probe-tui: error: the model's chat template failed to render")
    assert time.monotonic() - started < 60
