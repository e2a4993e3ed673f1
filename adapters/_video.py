"""Videos read clip by clip: frame arrays and video files, never decoded or converted whole.

A video is a :class:`FrameArray` (frames already in memory, or memory-mapped) or a
:class:`VideoFile` (decoded frame range by frame range with torchcodec, or PyAV where that is
what is installed). Both give the clips of ``clip_len`` frames that the clip stems read;
:class:`ClipSequences` gathers the clips of a batch of videos for ``FineTune``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import importlib.util
import os
from abc import ABC, abstractmethod

import numpy as np
import pandas as pd
import torch

from ._media import _as_array, _is_path, check_image_array

__all__ = []


class Video(ABC):
    """One video: its number of frames, the shape and dtype of its frames, and its clips."""

    n_frames: int
    frame_shape: tuple
    dtype: np.dtype

    def clip(self, start, clip_len):
        """``clip_len`` frames from ``start``, the last frame repeated past the end of the video."""
        stop = min(start + clip_len, self.n_frames)
        frames = self.frames(start, stop)
        if len(frames) < clip_len:
            repeats = np.ones(len(frames), dtype=np.intp)
            repeats[-1] += clip_len - len(frames)
            frames = np.repeat(frames, repeats, axis=0)
        return frames

    @abstractmethod
    def frames(self, start, stop):
        """Frames ``start`` to ``stop`` (excluded) as an ``(stop - start, H, W, C)`` array."""


class FrameArray(Video):
    """A video given as an ``(F, H, W, C)`` array of uint8 or [0, 1] float frames."""

    def __init__(self, frames, index):
        frames, channels_last = check_image_array(frames, name=f"Video {index}", unit="frame")
        if not channels_last:
            raise ValueError(
                f"Video {index} has shape {frames.shape}; pass its frames as (n_frames, H, W, C)."
            )
        self.array = frames
        self.n_frames = len(frames)
        self.frame_shape = frames.shape[1:]
        self.dtype = frames.dtype

    def frames(self, start, stop):
        return np.array(self.array[start:stop])  # a copy: also out of a read-only memory map


class VideoFile(Video):
    """A video file, opened once to read its length and frame size, then decoded by ranges.

    Frames are numbered in presentation order; a range is found by seeking to the key frame
    before it and decoding from there, so that a clip costs what its frames cost, not what the
    video before it does.
    """

    dtype = np.dtype(np.uint8)

    def __init__(self, path, index):
        if not os.path.isfile(path):
            raise ValueError(f"Video {index}: the file {str(path)!r} does not exist.")
        self.path = str(path)
        self.decoder = _installed_decoder(self.path)
        try:
            self.n_frames, height, width = self.decoder.probe(self.path)
        except _decoding_errors() as error:
            raise ValueError(
                f"Video {index}: the file {self.path!r} is not a video that "
                f"{self.decoder.name} can read ({error})."
            ) from error
        if self.n_frames == 0:
            raise ValueError(f"Video {index}: the file {self.path!r} has no frames.")
        self.frame_shape = (height, width, 3)

    def frames(self, start, stop):
        return self.decoder.frames(self.path, start, stop)


def open_videos(X):
    """Validate videos without decoding them: a list of :class:`Video`.

    Accepts a list, tuple, 1-D object array or Series of ``(F, H, W, C)`` frame arrays (or
    tensors), or of video file paths; a 5-D array or tensor is a batch of videos of one length.
    """
    if torch.is_tensor(X):
        X = _as_array(X, "X")
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 5:
        items = list(X)
    elif isinstance(X, list | tuple | pd.Series) or (
        isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1
    ):
        items = list(X)
    else:
        shape = f" of shape {X.shape}" if isinstance(X, np.ndarray) else ""
        raise ValueError(
            "Videos must be a list of (n_frames, H, W, 3) frame arrays or of video file paths "
            f"(one video too: [frames]), got {type(X).__name__}{shape}."
        )
    if not items:
        raise ValueError("X holds no videos.")
    return [
        VideoFile(item, index) if _is_path(item) else FrameArray(item, index)
        for index, item in enumerate(items)
    ]


def check_frame_shapes(videos):
    """Raise a ValueError unless all videos have frames of one shape."""
    frame_shapes = {video.frame_shape for video in videos}
    if len(frame_shapes) > 1:
        raise ValueError(
            f"The videos have frames of {len(frame_shapes)} different sizes "
            f"({sorted(frame_shapes)[:3]}); resize them to one size first, or use weights "
            "whose preprocessing crops them to one size."
        )


def clip_starts(n_frames, clip_len, stride):
    """Start frames of the clips of a video: every ``stride`` frames, the last clip complete.

    A video shorter than one clip gives one clip (its frames repeat the last one up to
    ``clip_len``).
    """
    if n_frames <= clip_len:
        return np.array([0])
    return np.arange(0, n_frames - clip_len + 1, stride)


class ClipSequences:
    """Videos as NaN-padded sequences of prepared clips, made batch by batch.

    ``prepare`` maps one clip, an ``(L, H, W, C)`` tensor of uint8 or [0, 1] float frames, to
    the ``(L, h, w, C)`` float32 [0, 1] clip the stem reads (resized and cropped as its
    weights want); ``lengths`` holds every video's number of clips. A batch is a
    ``(B, T, L, h, w, C)`` float32 array, ``T`` the most clips of a video in the batch, padding
    clips all NaN; it is written into one buffer that every batch reuses, valid until the next.
    """

    def __init__(self, videos, clip_len, stride, prepare):
        self.videos = videos
        self.clip_len = clip_len
        self.prepare = prepare
        self.starts = [clip_starts(video.n_frames, clip_len, stride) for video in videos]
        self.lengths = np.array([len(starts) for starts in self.starts], dtype=np.intp)
        self.clip_shape = _prepared_clip_shape(videos, clip_len, prepare)
        self._buffer = np.empty((0, 0, *self.clip_shape), np.float32)

    def __len__(self):
        return len(self.videos)

    def batch(self, indices):
        """The clip sequences of the videos at ``indices``."""
        indices = np.atleast_1d(indices)
        n_clips = int(self.lengths[indices].max())
        if len(self._buffer) < len(indices) or self._buffer.shape[1] < n_clips:
            shape = (max(len(indices), len(self._buffer)), max(n_clips, self._buffer.shape[1]))
            self._buffer = np.empty((*shape, *self.clip_shape), np.float32)
        batch = self._buffer[: len(indices), :n_clips]
        batch.fill(np.nan)
        for row, index in zip(batch, indices, strict=True):
            video = self.videos[index]
            for column, start in enumerate(self.starts[index]):
                row[column] = self.prepare(torch.from_numpy(video.clip(start, self.clip_len)))
        return batch


def prepare_clip(preprocess, clip):
    """An ``(L, H, W, C)`` clip resized and cropped by a stem's ``Preprocess``.

    Returns the ``(L, h, w, 3)`` float32 clip in [0, 1], as the stem reads clips it is told are
    resized; uint8 frames are resized as uint8, the way the stem resizes a batch.
    """
    return preprocess.resize_and_crop(clip.movedim(-1, 0)[None])[0].movedim(0, -1)


def _prepared_clip_shape(videos, clip_len, prepare):
    """The shape of a prepared clip; a ValueError if videos of different sizes give different."""
    shapes = {
        tuple(prepare(torch.zeros((clip_len, *frame_shape), dtype=torch.uint8)).shape)
        for frame_shape in {video.frame_shape for video in videos}
    }
    if len(shapes) > 1:
        check_frame_shapes(videos)
    return shapes.pop()


# --- decoders ------------------------------------------------------------------------------------


def _installed_decoder(path):
    if importlib.util.find_spec("torchcodec") is not None:
        return _TorchCodec
    if importlib.util.find_spec("av") is not None:
        return _PyAV
    raise ValueError(
        f"Reading the video file {path!r} needs a decoder: pip install torchcodec (or av). Or "
        "pass the frames as (n_frames, H, W, 3) arrays."
    )


def _decoding_errors():
    """The exceptions of the installed decoders for a file they cannot read."""
    errors = [ValueError, RuntimeError]
    if importlib.util.find_spec("av") is not None:
        import av

        errors.append(av.FFmpegError)
    return tuple(errors)


class _TorchCodec:
    name = "torchcodec"

    @staticmethod
    def probe(path):
        from torchcodec.decoders import VideoDecoder

        metadata = VideoDecoder(path).metadata
        return metadata.num_frames, metadata.height, metadata.width

    @staticmethod
    def frames(path, start, stop):
        from torchcodec.decoders import VideoDecoder

        decoder = VideoDecoder(path, dimension_order="NHWC")
        return decoder.get_frames_in_range(start, stop).data.numpy()


class _PyAV:
    name = "PyAV"

    @staticmethod
    def probe(path):
        import av

        with av.open(path) as container:
            if not container.streams.video:
                raise ValueError("it has no video stream")
            stream = container.streams.video[0]
            n_frames = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
            return n_frames, stream.codec_context.height, stream.codec_context.width

    @staticmethod
    def frames(path, start, stop):
        import av

        with av.open(path) as container:
            stream = container.streams.video[0]
            number = _frame_numbers(stream)
            if number is not None and start > 0:
                container.seek(number.timestamp(start), stream=stream, backward=True)
            frames, position = [], None
            for frame in container.decode(stream):
                position = number(frame) if number is not None else _next(position)
                if position >= stop:
                    break
                if position >= start:
                    frames.append(frame.to_ndarray(format="rgb24"))
        return np.stack(frames)


def _next(position):
    return 0 if position is None else position + 1


def _frame_numbers(stream):
    """Frame number from presentation time, for streams of a known frame rate; else None."""
    if not stream.average_rate or stream.time_base is None:
        return None
    return _FrameNumbers(stream.average_rate, stream.time_base, stream.start_time or 0)


class _FrameNumbers:
    def __init__(self, rate, time_base, first):
        self.rate, self.time_base, self.first = rate, time_base, first

    def __call__(self, frame):
        return int(round((frame.pts - self.first) * self.time_base * self.rate))

    def timestamp(self, number):
        return self.first + int(round(number / self.rate / self.time_base))
