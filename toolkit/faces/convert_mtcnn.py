"""Convert the pretrained MTCNN weights of the facenet-pytorch 2.6.0 wheel into the project's checkpoint.

Run once, with the wheel downloaded by ``pip download --no-deps facenet-pytorch==2.6.0``::

    python -m toolkit.faces.convert_mtcnn /path/to/facenet_pytorch-2.6.0-py3-none-any.whl

It reads ``facenet_pytorch/data/{pnet,rnet,onet}.pt`` (plain state dicts, read with
``weights_only=True``) from the wheel, checks that they fit :class:`toolkit.faces.mtcnn.MTCNN`,
writes ``toolkit/weights/files/faces_mtcnn.pt`` with :func:`toolkit.weights.save` and registers it
as ``faces/mtcnn`` (with the package's MIT license in the model card and in
``toolkit/weights/files/LICENSE-facenet-pytorch.txt``). facenet-pytorch itself is never imported.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import zipfile
from pathlib import Path

NAME = "faces/mtcnn"
FILENAME = "faces_mtcnn.pt"
LICENSE_FILE = "LICENSE-facenet-pytorch.txt"


def convert(wheel: str | Path, *, register: bool = True) -> Path:
    """Write (and register) the ``faces/mtcnn`` checkpoint from the facenet-pytorch wheel; its path.

    >>> convert("/tmp/wheels/facenet_pytorch-2.6.0-py3-none-any.whl", register=False)  # doctest: +SKIP
    """
    import torch

    from toolkit import weights
    from toolkit.faces.mtcnn import KIND, MTCNN

    net = MTCNN()
    with zipfile.ZipFile(wheel) as z:
        state = {}
        for stage in ("pnet", "rnet", "onet"):
            sd = torch.load(io.BytesIO(z.read(f"facenet_pytorch/data/{stage}.pt")), weights_only=True)
            state.update({f"{stage}.{k}": v for k, v in sd.items()})
        lic = next(n for n in z.namelist() if n.endswith(".dist-info/LICENSE.md"))
        license_text = z.read(lic).decode("utf-8")
    net.load_state_dict(state)  # strict: every tensor has its place
    card = {
        "model": "MTCNN (Zhang et al., IEEE SPL 2016) P-Net / R-Net / O-Net, pretrained",
        "source": "facenet-pytorch 2.6.0 (https://github.com/timesler/facenet-pytorch), "
        "facenet_pytorch/data/{pnet,rnet,onet}.pt, converted by toolkit.faces.convert_mtcnn",
        "license": "MIT, Copyright (c) 2019 Timothy Esler; full text in " + LICENSE_FILE,
        "preprocessing": "RGB, (x - 127.5) / 128",
    }
    out_dir = Path(tempfile.mkdtemp())
    out = weights.save(net, out_dir / FILENAME, kind=KIND, config={"min_face": 20}, card=card)
    if register:
        (weights.shipped_dir() / LICENSE_FILE).write_text(license_text)
        weights.register_file(
            NAME,
            out,
            train_command="python -m toolkit.faces.convert_mtcnn facenet_pytorch-2.6.0-py3-none-any.whl",
            card="MTCNN face detector (P/R/O-Net, 5 landmarks), pretrained weights of facenet-pytorch "
            "2.6.0 (MIT license, Copyright (c) 2019 Timothy Esler; see " + LICENSE_FILE + "), converted "
            "to the toolkit's checkpoint format. Input RGB scaled (x - 127.5) / 128.",
            ship=True,
        )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("wheel", help="facenet_pytorch-2.6.0-py3-none-any.whl")
    p.add_argument("--no-register", action="store_true", help="write the checkpoint only")
    a = p.parse_args(argv)
    print(convert(a.wheel, register=not a.no_register))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
