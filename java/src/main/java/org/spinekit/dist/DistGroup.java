package org.spinekit.dist;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BackendOptional;
import org.bytedeco.pytorch.BarrierOptions;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.ProcessGroup;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;

/**
 * A c10d process group over Gloo: rendezvous through a {@link TCPStore} hosted by rank 0 at {@code
 * MASTER_ADDR:MASTER_PORT}, then the collectives this library needs. Every wait is bounded by
 * {@link Options#timeout}: a peer that dies, hangs or never comes ends every other rank with a
 * {@link DistributedException} naming the operation, never a hang.
 *
 * <p>Gloo's transport is given its device explicitly (as c10d requires from C++): the interface of
 * {@link Options#glooInterface} ({@code GLOO_SOCKET_IFNAME}) when set, else the address this host
 * uses towards {@code MASTER_ADDR} (loopback for a job on one machine).
 *
 * <p>NCCL (GPU machines, {@code backend nccl}) comes with the {@code -Pgpu} build of the preset:
 * CUDA tensors then go through NCCL and CPU ones through Gloo. It has not run on a GPU with Java
 * yet: untested.
 *
 * <p>Ownership: the store is kept here for the group's lifetime (the native group refers to it) and
 * {@link #close()} destroys the group, then the store.
 */
public final class DistGroup implements AutoCloseable {
  /**
   * @param backend {@code gloo} (CPU tensors) or {@code nccl} (CUDA tensors through NCCL, CPU ones
   *     through Gloo; the {@code -Pgpu} build on a GPU machine; not yet run)
   * @param timeout bound of the rendezvous and of every collective
   * @param glooInterface network interface for Gloo (null: the route to the master)
   */
  public record Options(String backend, Duration timeout, String glooInterface) {
    public Options {
      if (!"gloo".equals(backend) && !"nccl".equals(backend)) {
        throw new IllegalArgumentException("backend: expected gloo or nccl, got " + backend);
      }
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout: expected a positive duration, got " + timeout);
      }
    }

    /**
     * Gloo ({@code SPINEKIT_DIST_BACKEND} when set), a 30 min timeout (as torch.distributed)
     * ({@code SPINEKIT_DIST_TIMEOUT} seconds when set), GLOO_SOCKET_IFNAME.
     */
    public static Options defaults() {
      String t = System.getenv("SPINEKIT_DIST_TIMEOUT");
      Duration d; // torch.distributed's default for Gloo: 30 minutes
      try {
        d =
            t == null
                ? Duration.ofMinutes(30)
                : Duration.ofMillis((long) (1000 * Double.parseDouble(t)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "environment SPINEKIT_DIST_TIMEOUT: expected seconds, got '" + t + "'");
      }
      String backend = System.getenv().getOrDefault("SPINEKIT_DIST_BACKEND", "gloo");
      return new Options(backend, d, System.getenv("GLOO_SOCKET_IFNAME"));
    }

    public Options withTimeout(Duration d) {
      return new Options(backend, d, glooInterface);
    }

    public Options withBackend(String b) {
      return new Options(b, timeout, glooInterface);
    }
  }

  private final DistEnv env;
  private final Options options;
  private final Store store;
  private final ProcessGroupGloo gloo;
  private final Backend nccl;
  private final List<Store> stores;
  private final ProcessGroup group;
  private boolean closed;

  private DistGroup(
      DistEnv env,
      Options options,
      Store store,
      List<Store> stores,
      ProcessGroupGloo gloo,
      Backend nccl) {
    this.env = env;
    this.options = options;
    this.store = store;
    this.stores = stores;
    this.gloo = gloo;
    this.nccl = nccl;
    this.group = new ProcessGroup(env.rank(), env.worldSize());
    group.setBackend(
        torch.DeviceType.CPU, ProcessGroup.BackendType.GLOO, new BackendOptional(gloo));
    if (nccl != null) {
      group.setBackend(
          torch.DeviceType.CUDA, ProcessGroup.BackendType.NCCL, new BackendOptional(nccl));
    }
    group.setDefaultBackend(
        nccl != null ? ProcessGroup.BackendType.NCCL : ProcessGroup.BackendType.GLOO);
  }

  /**
   * Joins the job of {@code env}: waits for every rank (within the timeout) and connects them.
   *
   * @throws DistributedException when the store or a peer cannot be reached in time
   */
  public static DistGroup join(DistEnv env, Options options) {
    if (env == null) throw new IllegalArgumentException("env: expected a DistEnv, got null");
    if (options == null) throw new IllegalArgumentException("options: expected options, got null");
    Milliseconds ms = new Milliseconds(options.timeout().toMillis());
    Store store;
    try {
      TCPStoreOptions o = new TCPStoreOptions();
      o.port((short) env.masterPort());
      o.isServer(env.rank() == 0);
      o.numWorkers(new SizeTPointer(1).put(env.worldSize()));
      o.waitWorkers(false);
      o.useLibUV(false);
      o.timeout(ms);
      store = new TCPStore(env.masterAddr(), o);
    } catch (RuntimeException e) {
      throw failure(env, "rendezvous at " + env.masterAddr() + ":" + env.masterPort(), options, e);
    }
    try {
      ProcessGroupGloo.Options g = ProcessGroupGloo.Options.create(ms);
      g.devices(
          new GlooDeviceVector(
              options.glooInterface() != null
                  ? ProcessGroupGloo.createDeviceForInterface(options.glooInterface())
                  : ProcessGroupGloo.createDeviceForHostname(localAddressTowards(env))));
      g.threads(2);
      if (options.backend().equals("gloo")) {
        ProcessGroupGloo gloo = new ProcessGroupGloo(store, env.rank(), env.worldSize(), g);
        return new DistGroup(env, options, store, List.of(), gloo, null);
      }
      // NCCL for CUDA tensors beside Gloo for CPU ones (metrics, barriers), each on its own
      // prefix of the store; the store object may be handed to native owners once only, so each
      // gets a clone (a reference-counted client of the same server).
      Store forGloo = new PrefixStore("gloo", store.clone());
      Store forNccl = new PrefixStore("nccl", store.clone());
      ProcessGroupGloo gloo = new ProcessGroupGloo(forGloo, env.rank(), env.worldSize(), g);
      Backend nccl;
      try {
        org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options n =
            org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options.create();
        n.timeout(ms);
        nccl =
            new org.bytedeco.pytorch.nccl.ProcessGroupNCCL(forNccl, env.rank(), env.worldSize(), n);
      } catch (LinkageError e) {
        gloo.close();
        forNccl.close();
        forGloo.close();
        throw new IllegalArgumentException(
            "backend nccl: this build has no NCCL (build with -Pgpu on a machine with CUDA): "
                + e.getMessage(),
            e);
      }
      return new DistGroup(env, options, store, List.of(forGloo, forNccl), gloo, nccl);
    } catch (IllegalArgumentException e) {
      store.close();
      throw e;
    } catch (RuntimeException e) {
      store.close();
      throw failure(env, "connecting the " + env.worldSize() + " ranks", options, e);
    }
  }

  /** The address of this host on the route to the master (the master's own when it is local). */
  private static String localAddressTowards(DistEnv env) {
    try {
      java.net.InetAddress master = java.net.InetAddress.getByName(env.masterAddr());
      if (master.isLoopbackAddress()
          || java.net.NetworkInterface.getByInetAddress(master) != null) {
        return master.getHostAddress();
      }
      try (java.net.DatagramSocket s = new java.net.DatagramSocket()) {
        s.connect(master, env.masterPort());
        return s.getLocalAddress().getHostAddress();
      }
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(
          "MASTER_ADDR: cannot resolve '" + env.masterAddr() + "': " + e.getMessage(), e);
    }
  }

  public DistEnv env() {
    return env;
  }

  public int rank() {
    return env.rank();
  }

  public int size() {
    return env.worldSize();
  }

  public Options options() {
    return options;
  }

  /** The c10d group (for c10d's reducer); owned here. */
  ProcessGroup group() {
    checkOpen();
    return group;
  }

  /** Sums {@code t} (contiguous, CPU) over the ranks, in place. */
  public void allreduceSum(Tensor t) {
    checkOpen();
    try (PointerScope s = new PointerScope()) {
      AllreduceOptions o = new AllreduceOptions();
      o.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
      await(group.allreduce(new TensorVector(t), o), "allreduce");
    }
  }

  /** Sums each value over the ranks (metrics, counts): one collective. */
  public double[] sum(double... values) {
    checkOpen();
    try (PointerScope s = new PointerScope()) {
      Tensor t = torch.zeros(new long[] {values.length}).to(torch.ScalarType.Double);
      t.data_ptr_double().put(values);
      allreduceSum(t);
      double[] out = new double[values.length];
      t.data_ptr_double().get(out);
      return out;
    }
  }

  /** Copies rank {@code root}'s {@code t} (contiguous, CPU) into every rank's, in place. */
  public void broadcast(Tensor t, int root) {
    checkOpen();
    try (PointerScope s = new PointerScope()) {
      BroadcastOptions o = new BroadcastOptions();
      o.rootRank(root);
      await(group.broadcast(new TensorVector(t), o), "broadcast from rank " + root);
    }
  }

  /** Waits until every rank has reached this call. */
  public void barrier() {
    checkOpen();
    try (PointerScope s = new PointerScope()) {
      BarrierOptions o = new BarrierOptions();
      o.timeout(new Milliseconds(options.timeout().toMillis()));
      await(group.barrier(o), "barrier");
    }
  }

  private void await(Work w, String what) {
    try {
      w._wait(new Milliseconds(options.timeout().toMillis()));
      if (!w.isSuccess()) throw new IllegalStateException("the operation did not succeed");
    } catch (RuntimeException e) {
      throw failure(env, what, options, e);
    }
  }

  static DistributedException failure(DistEnv env, String what, Options o, Throwable e) {
    String reason = String.valueOf(e.getMessage()).lines().findFirst().orElse("").trim();
    return new DistributedException(
        String.format(
            Locale.ROOT,
            "rank %d of %d: %s failed: %s (a peer died, hung or never came; timeout %d s)",
            env.rank(),
            env.worldSize(),
            what,
            reason,
            o.timeout().toSeconds()),
        e);
  }

  DistributedException failure(String what, Throwable e) {
    return failure(env, what, options, e);
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("the process group is closed");
  }

  /** Destroys the group, then the store (in this order: the group refers to the store). */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    group.close();
    if (nccl != null) nccl.close();
    gloo.close();
    for (Store s : stores) s.close();
    store.close();
  }
}
