"""Writes tiny torch.save files that declare huge tensors, as an attacker would (real torch.save, then edited).

usage: torch_hostile.py OUT_DIR
  stride0.pt   one float whose saved view is 2e9 elements (stride 0): a few hundred bytes
  bomb.pt      a state dict whose data/0 inflates to 1 GB of zeros
  pklbomb.pt   a state dict whose data.pkl inflates to 200 MB
  wide.pt      one float whose saved view is 10M elements: within a small file's budget, not of any network's shape
  robot600m.pt the robot network's first weight as a 600M-element view"""
import io
import sys
import zipfile

import torch

out = sys.argv[1]
torch.save({"w": torch.zeros(1).expand(2_000_000_000)}, f"{out}/stride0.pt")
torch.save({"w": torch.zeros(1).expand(10_000_000)}, f"{out}/wide.pt")
torch.save({"encoder.0.weight": torch.zeros(1).expand(600_000_000)}, f"{out}/robot600m.pt")


buffer = io.BytesIO()
torch.save({"w": torch.zeros(4)}, buffer)
buffer.seek(0)
zeros = bytes(1 << 20)


def inflated(target, suffix, keep, megabytes):
    """The state dict's archive with its entry ending in SUFFIX deflated and padded with MEGABYTES of zeros (its own
    bytes first where KEEP); the other entries stored as torch wrote them."""
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(f"{out}/{target}", "w") as dst:
        for item in src.infolist():
            if not item.filename.endswith(suffix):
                dst.writestr(item, src.read(item.filename))
                continue
            info = zipfile.ZipInfo(item.filename)
            info.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(info, "w", force_zip64=True) as entry:
                if keep:
                    entry.write(src.read(item.filename))
                for _ in range(megabytes):
                    entry.write(zeros)


inflated("bomb.pt", "data/0", keep=False, megabytes=1024)
inflated("pklbomb.pt", "data.pkl", keep=True, megabytes=200)
