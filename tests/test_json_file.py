"""read_json_object: a sound object comes back; each kind of damage is one line naming the file and the reason."""

import pytest

from retrieval_xfer.errors import RunFolderError, RxError
from retrieval_xfer.json_file import read_json_object


def test_sound_object_and_each_failure(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"a": 1, "b": [2]}', encoding="utf-8")
    assert read_json_object(good, "thing", missing="gone", required=("a", "b")) == {"a": 1, "b": [2]}
    cases = {
        "absent.json": (None, "gone"),
        "good.json/under-a-file.json": (None, "gone"),
        "truncated.json": (b'{"a": ', "truncated.json: corrupt thing (Expecting value at line 1)"),
        "latin1.json": (
            '{"a": "caf\u00e9"}'.encode("latin-1"),
            "latin1.json: corrupt thing (unreadable: UnicodeDecodeError)",
        ),
        "list.json": (b"[1, 2]", "list.json: corrupt thing (expected a JSON object, found list)"),
        "partial.json": (b'{"a": 1}', "partial.json: corrupt thing (no 'b')"),
    }
    for name, (content, message) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(RunFolderError) as err:
            read_json_object(tmp_path / name, "thing", missing="gone", error=RunFolderError, required=("a", "b"))
        assert str(err.value).endswith(message) and "\n" not in str(err.value)
        assert isinstance(err.value, RxError)
