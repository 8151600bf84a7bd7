"""`cvseq train video_tagger --set streams=rgb,flow`, then predict and
evaluate: the two-stream model computes the flow of the clips it is given."""

import json
import os

import cv2
import numpy as np

from cvseq import cli

TINY = ["--frames", "4", "--image-size", "16", "--batch-size", "16",
        "--data", "num_clips=32", "--set", "units=8"]


def test_two_stream_tagger_trains_predicts_and_evaluates(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert cli.main(["train", "video_tagger", "--epochs", "1", "--out", out,
                     "--set", "streams=rgb,flow"] + TINY) == 0, capsys.readouterr().err
    run = json.load(open(os.path.join(out, "run.json")))
    assert run["model_options"]["streams"] == "rgb,flow"
    model = os.path.join(out, "model.keras")
    video = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*"MJPG"), 10, (24, 24))
    for t in range(10):
        frame = np.zeros((24, 24, 3), np.uint8)
        frame[8:14, t:t + 6] = 255
        writer.write(frame)
    writer.release()
    capsys.readouterr()
    assert cli.main(["predict", model, video]) == 0
    line = capsys.readouterr().out.strip().splitlines()[0]
    assert line.startswith(video) and any(d in line for d in ("right", "left", "down", "up"))
    assert cli.main(["evaluate", model]) == 0
