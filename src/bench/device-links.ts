import type { LinkEvent } from "../../drivers/capabilities.js";
import type { Clock } from "../../drivers/clock.js";

/** How the link to one real instrument stands, as its driver last reported it. */
export interface DeviceLinkStatus {
  state: "up" | "down" | "unusable";
  /** Wall time (ms) of the last change; undefined while the link has never dropped. */
  sinceWallMs: number | undefined;
  /** Why it is down or unusable. */
  reason: string | undefined;
  /** Times the link dropped since start-up. */
  losses: number;
  /** Times the instrument was taken over again after a drop. */
  reconnects: number;
}

/**
 * Link state of every device, fed by the drivers' link events (DriverContext.reportLink). Simulated
 * devices never report and stay `up`.
 */
export class DeviceLinks {
  private readonly status = new Map<string, DeviceLinkStatus>();

  constructor(
    private readonly clock: Clock,
    private readonly onEvent: (
      deviceId: string,
      event: LinkEvent,
      status: DeviceLinkStatus,
    ) => void = () => {},
  ) {}

  /** The DriverContext.reportLink of the bench. */
  readonly report = (deviceId: string, event: LinkEvent): void => {
    const s = this.of(deviceId);
    const next: DeviceLinkStatus = { ...s, sinceWallMs: this.clock.wallNow() };
    if (event.kind === "lost") {
      next.state = "down";
      next.reason = event.reason;
      next.losses = s.losses + 1;
    } else if (event.kind === "unusable") {
      next.state = "unusable";
      next.reason = event.reason;
    } else {
      next.state = "up";
      next.reason = undefined;
      next.reconnects = s.reconnects + 1;
    }
    this.status.set(deviceId, next);
    this.onEvent(deviceId, event, next);
  };

  of(deviceId: string): DeviceLinkStatus {
    return (
      this.status.get(deviceId) ?? {
        state: "up",
        sinceWallMs: undefined,
        reason: undefined,
        losses: 0,
        reconnects: 0,
      }
    );
  }
}
