import dataclasses

from lewm_mini.config import get_config
from lewm_mini.notebook import expect, setup, trained_model


def test_setup_prints_profile_and_seeds(capsys):
    cfg, device = setup(seed=3, profile="ci")
    out = capsys.readouterr().out
    assert cfg.profile == "ci" and "profile=ci" in out and "seed=3" in out and str(device) in out
    expect(5, 60, 30, "ci")
    assert "about 5 s" in capsys.readouterr().out


def test_trained_model_is_reused_from_the_cache():
    cfg = get_config("ci")
    cfg.train = dataclasses.replace(cfg.train, steps=4)
    m1, s1 = trained_model(cfg, progress=False)
    m2, _ = trained_model(cfg, progress=False)
    assert not m2.training
    for k, v in m1.state_dict().items():
        assert (m2.state_dict()[k] == v).all()


def _fake_colab(monkeypatch, tmp_path, mount):
    import sys
    import types

    import lewm_mini.notebook as nb

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(nb, "_mount_drive", mount)
    monkeypatch.delenv("LEWM_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the VM's disk
    return str(tmp_path / "drive")


def test_persistent_cache_outside_colab_changes_nothing(monkeypatch, tmp_path):
    import sys

    from lewm_mini.notebook import persistent_cache

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setenv("LEWM_CACHE", str(tmp_path / "mine"))
    assert persistent_cache("gpu") == tmp_path / "mine"


def test_persistent_cache_mounts_drive_in_colab(monkeypatch, tmp_path):
    import os
    from pathlib import Path

    from lewm_mini.notebook import persistent_cache

    mounts = []

    def mount(point):
        mounts.append(point)
        (Path(point) / "MyDrive").mkdir(parents=True)

    point = _fake_colab(monkeypatch, tmp_path, mount)
    assert persistent_cache("gpu", mount_point=point) == Path(point) / "MyDrive" / "lewm_mini"
    assert os.environ["LEWM_CACHE"] == str(Path(point) / "MyDrive" / "lewm_mini") and mounts == [point]
    assert persistent_cache("gpu", mount_point=point) == Path(point) / "MyDrive" / "lewm_mini"  # "Run all" again
    assert mounts == [point]  # mounted already: not again


def test_persistent_cache_refuses_the_vm_disk_for_the_gpu_profile(monkeypatch, tmp_path):
    import os

    import pytest

    from lewm_mini.notebook import persistent_cache

    def refused(point):
        raise RuntimeError("access denied")

    point = _fake_colab(monkeypatch, tmp_path, refused)
    monkeypatch.setenv("LEWM_CACHE", f"{point}/MyDrive/lewm_mini")  # set before a disconnect: Drive is gone now
    with pytest.raises(RuntimeError, match=r"not mounted.*access denied.*disconnect erases.*LEWM_CACHE"):
        persistent_cache("gpu", mount_point=point)
    assert "LEWM_CACHE" not in os.environ and not os.path.exists(point)  # nothing written where Drive belongs
    with pytest.warns(UserWarning, match="cpu profile's run is short"):
        assert persistent_cache("cpu", mount_point=point) == tmp_path / "home" / ".cache" / "lewm_mini"
    monkeypatch.setenv("LEWM_CACHE", str(tmp_path / "vm"))  # the learner's explicit choice is kept
    assert persistent_cache("gpu", mount_point=point) == tmp_path / "vm"


def test_every_chapter_that_loads_a_model_finds_it_on_drive_in_colab(monkeypatch, tmp_path):
    """Chapters 06-09 call only cached_run: in a fresh Colab session it must look on Drive, where 05 or 11 trained."""
    from pathlib import Path

    import lewm_mini.notebook as nb

    def mount(point):
        (Path(point) / "MyDrive").mkdir(parents=True, exist_ok=True)

    point = _fake_colab(monkeypatch, tmp_path, mount)
    original = nb.persistent_cache
    monkeypatch.setattr(nb, "persistent_cache", lambda profile: original(profile, mount_point=point))
    cfg = get_config("ci")
    cfg.train = dataclasses.replace(cfg.train, steps=4)
    trained_model(cfg, progress=False)
    runs = list((Path(point) / "MyDrive" / "lewm_mini" / "models").iterdir())
    assert [r.name for r in runs] == [f"ci-{cfg.run_key()}"]
    assert not (tmp_path / "home" / ".cache").exists(), "nothing trained on the VM's disk"
