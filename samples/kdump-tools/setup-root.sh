#!/bin/sh
# Run once inside the kdump-tools sample's guest root (chroot), after debootstrap and the apt-get install of the
# kernel, kdump-tools, kexec-tools and makedumpfile: the configuration kdump-tools' documentation asks for, and
# the sample's own units. Argument: the kernel release.
set -eu
REL=$1
echo kdump-tools > /etc/hostname
# The guest's one disk is its root (virtio, /dev/vda); the kernel command line mounts it rw.
printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' > /etc/fstab
passwd -d root >/dev/null
# initramfs-tools: MODULES=dep (which kdump-tools' kernel hook picks for its own initrd when MODULES=most) reads
# the running system's /sys and root device, which in a chroot on the build host are the host's. MODULES=list with
# the guest's disk drivers is what dep finds in the guest (ext4 and crc32c are built into the cloud kernel).
sed -i 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf
printf 'virtio_pci\nvirtio_blk\n' >> /etc/initramfs-tools/modules
update-initramfs -u -k "$REL"
# kdump-tools as its documentation (README.Debian, kdump-tools(5)) says: USE_KDUMP=1, the cores in /var/crash; the
# crashkernel= reservation is on the kernel command line QEMU boots with.
sed -i 's/^USE_KDUMP=.*/USE_KDUMP=1/; s|^KDUMP_COREDIR=.*|KDUMP_COREDIR="/var/crash"|' /etc/default/kdump-tools
grep -q '^USE_KDUMP=1$' /etc/default/kdump-tools
grep -q '^KDUMP_COREDIR="/var/crash"$' /etc/default/kdump-tools
# The kdump initrd (/var/lib/kdump/initrd.img-REL) and the vmlinuz/initrd.img links kdump-config loads: the kernel's
# install ran before kdump-tools was unpacked, so its postinst.d hook runs here.
/etc/kernel/postinst.d/kdump-tools "$REL"
kdump-config symlinks "$REL"
# `kdump-config load` rebuilds the initrd when /etc/kdump/sysctl.conf differs from the copy it keeps of the one the
# initrd was built with (check_sysctl_change): the copy of this build's, so the guest's first load keeps it.
cp /etc/kdump/sysctl.conf "/var/lib/kdump/latest_sysctls-$REL"
test -s "/var/lib/kdump/initrd.img-$REL"
systemctl enable tscrash-crash.service
