"""`secure_boot (--vm | --file) (--on | --off)`: EFI secure boot; VMs must be powered off, EFI to turn it on."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import on_off, vm_or_file, vm_targets


def arguments(p) -> None:
    vm_or_file(p, "for the secure boot operation")
    on_off(p, "Secure boot on (the VM must boot with EFI firmware)", "Secure boot off")


def run(ctx, args):
    from vhpc_toolkit.ops.edits.vm_settings import set_secure_boot

    targets = vm_targets(args)
    return set_secure_boot(ctx.session(), targets, on=args.on)
