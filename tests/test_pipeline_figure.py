import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lewm_mini.viz import PIPELINE_PARTS, pipeline_figure  # noqa: E402


def _highlighted(fig) -> set[str]:
    """Texts drawn in bold are the highlighted boxes."""
    bold = {t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"}
    return {k for k, (label, _, _) in PIPELINE_PARTS.items() if label in bold}


def test_pipeline_figure_highlights_the_requested_parts():
    fig = pipeline_figure(["encoder", "projector"])
    assert _highlighted(fig) == {"encoder", "projector"}
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for word in ("frames", "encoder", "projector", "predictor", "SIGReg", "MSE", "CEM"):
        assert word in texts
    plt.close(fig)
    fig = pipeline_figure("sigreg")
    assert _highlighted(fig) == {"sigreg"}
    fig.canvas.draw()  # renders (mathtext included) without error
    plt.close(fig)


def test_pipeline_figure_rejects_unknown_parts():
    with pytest.raises(ValueError, match="unknown pipeline part"):
        pipeline_figure(["encoder", "decoder"])


def test_speed_bars_show_every_bar_on_a_positive_log_axis():
    import matplotlib.pyplot as plt

    from lewm_mini.viz import speed_bars

    ax = speed_bars(["a", "b", "c", "d"], [0.4, 40.0, 0.98, 47.0], ["C0"] * 4, "t")
    lo, hi = ax.get_xlim()
    assert ax.get_xscale() == "log" and 0 < lo < 0.4 and hi > 47.0  # every bar's end is inside the axis
    widths = [p.get_width() for p in ax.patches]
    assert widths == [0.4, 40.0, 0.98, 47.0]
    plt.close(ax.figure)
