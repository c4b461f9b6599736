#!/bin/busybox sh
# /init of the sample guests. The same image runs as the crashing kernel and,
# via kexec -p, as the capture kernel (which sees /proc/vmcore).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp
for m in $(cat /modules/order 2>/dev/null); do insmod "/modules/$m" || echo "TSCRASH: insmod $m failed"; done
if [ -e /proc/vmcore ]; then
  echo "TSCRASH: capture kernel up"
  mkdir -p /out && cd /out
  ln -s /proc/vmcore vmcore.elf
  makedumpfile -c -d 31 /proc/vmcore kdump-c-d31 > capture-c.log 2>&1
  echo "TSCRASH: makedumpfile -c rc=$?"
  makedumpfile -F -c -d 31 /proc/vmcore > flat-c-d31 2> capture-f.log
  echo "TSCRASH: makedumpfile -F rc=$?"
  extra=""
  if [ -d /tsmd ]; then
    # tsmakedumpfile itself as the core collector, as kdump.conf would run it.
    node /tsmd/bin/tsmakedumpfile -l -d 31 /proc/vmcore ts-kdump-l-d31 > ts-l.log 2>&1
    echo "TSCRASH: tsmakedumpfile -l rc=$?"
    node /tsmd/bin/tsmakedumpfile -F -c -d 31 /proc/vmcore > ts-flat-c-d31 2> ts-f.log
    echo "TSCRASH: tsmakedumpfile -F rc=$?"
    tail -3 ts-l.log ts-f.log
    extra="ts-kdump-l-d31 ts-flat-c-d31 ts-l.log ts-f.log"
  fi
  i=0; while [ ! -b /dev/nvme0n1 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
  tar -c -h -f /dev/nvme0n1 vmcore.elf kdump-c-d31 flat-c-d31 capture-c.log capture-f.log $extra
  echo "TSCRASH: tar rc=$?"
  sync
  echo "TSCRASH: capture done"
  poweroff -f
fi
echo "TSCRASH: main kernel up"
kexec -p /boot/vmlinuz --initrd=/boot/capture.img --append="console=ttyS0 irqpoll nr_cpus=1 reset_devices panic=-1" \
  || echo "TSCRASH: kexec failed"
echo "TSCRASH: kdump loaded $(cat /sys/kernel/kexec_crash_loaded)"
# A varied workload: sleepers, a reader blocked on a pipe, busy loops, a
# stopped task, a zombie, a deep shell recursion.
sleep 1001 &
sleep 1002 &
(sleep 1003 | cat) &
while :; do :; done &
while :; do :; done &
sleep 1004 &
kill -STOP $!
sh -c 'sleep 0 & exec sleep 1005' &
deep() { if [ "$1" -gt 0 ]; then deep $(($1 - 1)); else sleep 1006; fi; }
deep 100 &
sleep 2
echo "TSCRASH: workload ready"
@TRIGGER@
sleep 600
