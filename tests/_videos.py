"""Video files for the tests, written with PyAV (the ``video`` extra)."""

import numpy as np


def write_video(path, frames, *, key_frame_every=8, rate=25):
    """Write ``(F, H, W, 3)`` uint8 frames as an H.264 file with a key frame every few frames.

    Frequent key frames give the range decoding several places to seek to.
    """
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = key_frame_every
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return str(path)


def ramp(n_frames, height, width, seed=0):
    """Frames whose brightness rises with the frame number, over a fixed random texture."""
    texture = np.random.default_rng(seed).integers(0, 64, (height, width, 3))
    levels = np.linspace(0, 180, n_frames).astype(int)
    return (texture + levels[:, None, None, None]).astype(np.uint8)
