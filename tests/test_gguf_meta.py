"""The models view reads GGUF headers itself (arrays skipped): it must agree with llama.cpp."""

import pytest

from probe_tui.backends.gguf_meta import describe_file, read_metadata
from probe_tui.core.errors import ProbeError


@pytest.mark.parametrize("model", ["smollm2", "gemma"])
def test_header_scalars_match_what_llama_cpp_reads(model, smollm2_path, gemma_path, scorer):
    from probe_tui.backends.llama_scorer import LlamaScorer

    path = smollm2_path if model == "smollm2" else gemma_path
    llama_meta = (scorer if model == "smollm2" else LlamaScorer(gemma_path, n_ctx=512)).llm.metadata
    ours = read_metadata(path)
    scalars = {k: v for k, v in ours.items() if not (isinstance(v, str) and v.endswith(" values]"))}
    assert len(scalars) > 10
    for key, value in scalars.items():
        expected = llama_meta[key]
        if isinstance(value, float):
            assert value == pytest.approx(float(expected), rel=1e-5), key
        elif isinstance(value, bool):
            assert str(value).lower() == expected, key
        else:
            assert str(value) == expected, key
    described = describe_file(path)
    assert described["chat_template"] == ("tokenizer.chat_template" in llama_meta)


def test_a_truncated_or_foreign_file_is_a_one_line_error(tmp_path, smollm2_path):
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(smollm2_path.read_bytes()[:2000])
    with pytest.raises(ProbeError, match="ends inside its GGUF header"):
        read_metadata(truncated)
    foreign = tmp_path / "notes.gguf"
    foreign.write_text("hello")
    with pytest.raises(ProbeError, match="not a GGUF model file"):
        read_metadata(foreign)


@pytest.mark.parametrize("length", [2**62, 10**10, 5000])
def test_a_header_string_longer_than_the_file_is_a_one_line_error(tmp_path, length):
    """#21.18: a string length beyond the file's end (a MemoryError in the models view, once)."""
    import struct

    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 12) + b"general.name" + struct.pack("<IQ", 8, length) + b"x" * 100
    path = tmp_path / "huge.gguf"
    path.write_bytes(header)
    with pytest.raises(ProbeError, match=f"huge.gguf ends inside its GGUF header: a text of {length:,} bytes"):
        read_metadata(path)


@pytest.mark.parametrize(("cut", "reason"), [
    (3000, "ends inside its GGUF header"),
    (50_000_000, r"is cut short: it has 50,000,000 of the [\d,]+ bytes its tensors need \(an interrupted download\?\)"),
])
def test_a_model_that_cannot_load_says_why(tmp_path, smollm2_path, cut, reason):
    """#21.20: a truncated GGUF gives the reason, not llama.cpp's bare 'failed to load'."""
    from probe_tui.backends.llama_cpp import LlamaCppBackend

    path = tmp_path / "partial.gguf"
    with smollm2_path.open("rb") as source:
        path.write_bytes(source.read(cut))
    backend = LlamaCppBackend(path, n_ctx=256)
    with pytest.raises(ProbeError, match=f"partial.gguf {reason}"):
        backend.start()
    backend.close()


def test_a_file_with_repeated_tensor_names_says_so(tmp_path):
    import struct

    from probe_tui.backends.gguf_meta import check_complete

    path = tmp_path / "twice.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 2, 0) + b"\0" * 200)
    with pytest.raises(ProbeError, match="tensor '' appears twice"):
        check_complete(path)
