import "./i18n";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Route, Routes, useNavigate, useParams } from "react-router";

import { MediaView } from "../../components/MediaView";
import { RequireRole } from "../../components/RequireRole";
import { SessionsPanel } from "../../components/SessionsPanel";
import { Empty, ErrorState, FormError, Loading } from "../../components/States";
import { UploadError, fromLocalInput, toLocalInput, uploadMedia } from "../../lib/admin-upload";
import { formatDateTime, formatFen } from "../../lib/format";
import { useMe } from "../../lib/session";
import { sha256Hex } from "../../lib/sha256";
import type { AppRouter } from "../../../../server/trpc/router";
import { appErrorCode, fieldErrors, useTRPC } from "../../lib/trpc";
import { AirdropPanel } from "./AirdropPanel";
import { SalesPanel } from "./SalesPanel";

export function StudioApp() {
  return (
    <RequireRole role="any">
      <Studio />
    </RequireRole>
  );
}

function Studio() {
  const { t } = useTranslation();
  const me = useMe();
  if (me.data?.role === "operator") return <p className="notice">{t("studio.notForRole")}</p>;
  if (me.data?.role !== "issuer_staff") return <ApplyForm />;
  return (
    <section className="page">
      <h1>{t("studio.title")}</h1>
      <SessionsPanel />
      <Routes>
        <Route index element={<CollectionList />} />
        <Route path="new" element={<DraftEditor />} />
        <Route path=":collectionId" element={<CollectionDetail />} />
      </Routes>
    </section>
  );
}

function ApplyForm() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const [legalName, setLegalName] = useState("");
  const [creditCode, setCreditCode] = useState("");
  const queryClient = useQueryClient();
  const mine = useQuery(trpc.issuer.myApplication.queryOptions());
  const apply = useMutation(
    trpc.issuer.submitApplication.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.issuer.myApplication.queryKey() }),
    }),
  );
  const errors = fieldErrors(apply.error, i18n.language);
  const application = mine.data ?? null;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    apply.mutate({ legalName: legalName.trim(), creditCode: creditCode.trim().toUpperCase() });
  }

  return (
    <section className="page narrow">
      <h1>{t("studio.apply.title")}</h1>
      <p className="muted">{t("studio.apply.help")}</p>
      {application !== null && (
        <p className={`notice application-${application.status}`} role="status" data-testid="application-status">
          {t(`studio.apply.state.${application.status}`, { name: application.name })}
          {application.status === "rejected" && application.rejectionReason !== null && (
            <>
              <br />
              {t("studio.apply.reason", { reason: application.rejectionReason })}
            </>
          )}
        </p>
      )}
      {apply.isSuccess || application?.status === "pending" || application?.status === "approved" ? (
        <p className="notice" role="status">
          {t("studio.apply.submitted")}
        </p>
      ) : (
        <form className="card" onSubmit={onSubmit}>
          <div className="field">
            <label htmlFor="issuer-name">{t("studio.apply.legalName")}</label>
            <input id="issuer-name" value={legalName} onChange={(e) => setLegalName(e.target.value)} required />
            {errors.legalName !== undefined && <p className="field-error">{errors.legalName}</p>}
          </div>
          <div className="field">
            <label htmlFor="issuer-code">{t("studio.apply.creditCode")}</label>
            <input
              id="issuer-code"
              className="mono"
              maxLength={18}
              value={creditCode}
              onChange={(e) => setCreditCode(e.target.value.toUpperCase())}
              aria-describedby="issuer-code-help"
              required
            />
            <p id="issuer-code-help" className="hint">
              {t("studio.apply.creditCodeHelp")}
            </p>
            {errors.creditCode !== undefined && <p className="field-error">{errors.creditCode}</p>}
          </div>
          <FormError error={apply.error} shown={["legalName", "creditCode"]} />
          <button type="submit" className="button" disabled={apply.isPending}>
            {t("studio.apply.submit")}
          </button>
        </form>
      )}
    </section>
  );
}

const STATUS_BADGE: Record<string, string> = {
  draft: "",
  submitted: "warn",
  approved: "ok",
  rejected: "bad",
  published: "ok",
};

function CollectionList() {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const list = useQuery(trpc.studio.list.queryOptions());
  if (list.isLoading) return <Loading />;
  if (list.error) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  return (
    <div className="page">
      <div className="row" style={{ alignItems: "center" }}>
        <h2 style={{ margin: 0 }}>{t("studio.list.title")}</h2>
        <Link className="button" to="new" style={{ flex: "0 0 auto" }}>
          {t("studio.list.create")}
        </Link>
      </div>
      {list.data!.length === 0 ? (
        <Empty>{t("studio.list.empty")}</Empty>
      ) : (
        <ul className="list">
          {list.data!.map((c) => (
            <li key={c.id}>
              <Link to={String(c.id)} data-testid="studio-collection">
                {c.title}
              </Link>{" "}
              <span className={`badge ${STATUS_BADGE[c.status] ?? ""}`}>{t(`studio.status.${c.status}`)}</span>{" "}
              <span className="muted">
                {t("studio.list.edition", { count: c.editionSize })} · {formatFen(c.priceFen)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface DraftFields {
  title: string;
  description: string;
  creator: string;
  story: string;
  mediaSha256: string;
  editionSize: number;
  priceYuan: string;
  saleStartsAt: string;
  saleEndsAt: string;
  perPersonLimit: number;
  lockDays: number;
  regiftDays: number;
}

/** A saved collection as `studio.get` answers it. */
type DraftRow = inferRouterOutputs<AppRouter>["studio"]["get"];

function initialFields(row?: DraftRow): DraftFields {
  const now = Date.now();
  return {
    title: row?.title ?? "",
    description: row?.description ?? "",
    creator: row?.creator ?? "",
    story: row?.story ?? "",
    mediaSha256: row?.mediaSha256 ?? "",
    editionSize: row?.editionSize ?? 1000,
    priceYuan: row === undefined ? "19.90" : (row.priceFen / 100).toFixed(2),
    saleStartsAt: toLocalInput(row?.saleStartsAt ?? new Date(now + 86_400_000)),
    saleEndsAt: toLocalInput(row?.saleEndsAt ?? new Date(now + 30 * 86_400_000)),
    perPersonLimit: row?.perPersonLimit ?? 1,
    lockDays: row?.lockDays ?? 180,
    regiftDays: row?.regiftDays ?? 730,
  };
}

/** The draft's fields, each showing its own message next to itself. */
const DRAFT_FIELDS = [
  "title",
  "description",
  "creator",
  "story",
  "mediaSha256",
  "editionSize",
  "priceFen",
  "saleStartsAt",
  "saleEndsAt",
  "perPersonLimit",
  "lockDays",
  "regiftDays",
];

/** Yuan text to integer fen without floating-point rounding. */
function yuanToFen(text: string): number {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (match === null) return Number.NaN;
  return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
}

/** Whether a `datetime-local` start (China time) is already in the past: such a sale is refused before sending. */
function startsInPast(value: string): boolean {
  const start = fromLocalInput(value);
  return !Number.isNaN(start.getTime()) && start.getTime() < Date.now();
}

export function DraftEditor({ row, onSaved, refusal }: { row?: DraftRow; onSaved?: () => void; refusal?: unknown }) {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [fields, setFields] = useState<DraftFields>(() => initialFields(row));
  // A saved draft's file was hashed when it was uploaded; a new upload is previewed and hashed here too.
  const [preview, setPreview] = useState<{ url: string; type: string; browserHash: string } | null>(null);
  const [uploadError, setUploadError] = useState<UploadError | null>(null);
  const [uploading, setUploading] = useState(false);
  const onSuccess = async (saved: { id: number }) => {
    await queryClient.invalidateQueries({ queryKey: trpc.studio.list.queryKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.studio.get.queryKey({ collectionId: saved.id }) });
    if (row === undefined) void navigate(`/studio/${saved.id}`);
    onSaved?.();
  };
  const create = useMutation(trpc.studio.createDraft.mutationOptions({ onSuccess }));
  const update = useMutation(trpc.studio.updateDraft.mutationOptions({ onSuccess }));
  const mutation = row === undefined ? create : update;
  // A start found in the past here, before anything is sent (the server refuses it too).
  const [pastStart, setPastStart] = useState(false);
  const errors: Record<string, string> = {
    ...fieldErrors(refusal, i18n.language),
    ...fieldErrors(mutation.error, i18n.language),
    ...(pastStart ? { saleStartsAt: t("studio.editor.startInPast") } : {}),
  };
  const set = <K extends keyof DraftFields>(key: K, value: DraftFields[K]) =>
    setFields((f) => ({ ...f, [key]: value }));

  async function onFile(file: File) {
    setUploading(true);
    setUploadError(null);
    try {
      const [uploaded, browserHash] = await Promise.all([uploadMedia(file), file.arrayBuffer().then(sha256Hex)]);
      set("mediaSha256", uploaded.sha256);
      setPreview({ url: URL.createObjectURL(file), type: uploaded.mimeType, browserHash });
    } catch (error) {
      setUploadError(error instanceof UploadError ? error : new UploadError({ zh: "上传失败", en: "Upload failed" }));
    } finally {
      setUploading(false);
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    setPastStart(startsInPast(fields.saleStartsAt));
    if (startsInPast(fields.saleStartsAt)) return;
    const draft = {
      title: fields.title,
      description: fields.description,
      creator: fields.creator,
      story: fields.story,
      mediaSha256: fields.mediaSha256,
      editionSize: fields.editionSize,
      priceFen: yuanToFen(fields.priceYuan),
      saleStartsAt: fromLocalInput(fields.saleStartsAt),
      saleEndsAt: fromLocalInput(fields.saleEndsAt),
      perPersonLimit: fields.perPersonLimit,
      lockDays: fields.lockDays,
      regiftDays: fields.regiftDays,
    };
    if (row === undefined) create.mutate(draft);
    else update.mutate({ collectionId: row.id, draft });
  }

  const text = (key: "title" | "description" | "creator" | "story", multiline = false, max = 60) => (
    <div className="field">
      <label htmlFor={`draft-${key}`}>{t(`studio.editor.${key}`)}</label>
      {multiline ? (
        <textarea
          id={`draft-${key}`}
          value={fields[key]}
          maxLength={max}
          onChange={(e) => set(key, e.target.value)}
          aria-invalid={errors[key] !== undefined}
        />
      ) : (
        <input
          id={`draft-${key}`}
          value={fields[key]}
          maxLength={max}
          onChange={(e) => set(key, e.target.value)}
          aria-invalid={errors[key] !== undefined}
        />
      )}
      {errors[key] !== undefined && <p className="field-error">{errors[key]}</p>}
    </div>
  );
  const number = (key: "editionSize" | "perPersonLimit" | "lockDays" | "regiftDays") => (
    <div className="field">
      <label htmlFor={`draft-${key}`}>{t(`studio.editor.${key}`)}</label>
      <input
        id={`draft-${key}`}
        type="number"
        inputMode="numeric"
        value={fields[key]}
        onChange={(e) => set(key, Number(e.target.value))}
        aria-invalid={errors[key] !== undefined}
      />
      {errors[key] !== undefined && <p className="field-error">{errors[key]}</p>}
    </div>
  );

  return (
    <form
      className="card page"
      onSubmit={onSubmit}
      aria-label={t(row ? "studio.editor.editTitle" : "studio.editor.newTitle")}
    >
      <h2 style={{ margin: 0 }}>{t(row ? "studio.editor.editTitle" : "studio.editor.newTitle")}</h2>
      {text("title")}
      {text("creator")}
      {text("description", true, 500)}
      {text("story", true, 5000)}
      <div className="field">
        <label htmlFor="draft-media">{t("studio.editor.media")}</label>
        <input
          id="draft-media"
          type="file"
          accept="image/png,image/jpeg,image/webp,image/gif,video/mp4,.glb,model/gltf-binary"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file !== undefined) void onFile(file);
          }}
          aria-describedby="draft-media-help"
        />
        <p id="draft-media-help" className="hint">
          {t("studio.editor.mediaHelp")}
        </p>
        {uploading && <Loading label={t("studio.editor.uploading")} />}
        {uploadError !== null && (
          <p className="field-error" role="alert">
            {i18n.language.startsWith("zh") ? uploadError.messages.zh : uploadError.messages.en}
          </p>
        )}
        {errors.mediaSha256 !== undefined && <p className="field-error">{errors.mediaSha256}</p>}
      </div>
      {preview === null && fields.mediaSha256 !== "" && (
        <div className="split">
          <MediaView url={`/media/${fields.mediaSha256}`} type="image/png" alt={fields.title} variant="thumb" />
          <p className="mono">
            {t("studio.editor.serverHash")}: {fields.mediaSha256}
          </p>
        </div>
      )}
      {preview !== null && fields.mediaSha256 !== "" && (
        <div className="split">
          <MediaView url={preview.url} type={preview.type} alt={fields.title} variant="thumb" />
          <dl className="facts" data-testid="media-hashes">
            <dt>{t("studio.editor.serverHash")}</dt>
            <dd className="mono">{fields.mediaSha256}</dd>
            <dt>{t("studio.editor.browserHash")}</dt>
            <dd className="mono">{preview.browserHash}</dd>
            <dt />
            <dd>
              {preview.browserHash === fields.mediaSha256 ? (
                <span className="badge ok">{t("studio.editor.hashMatch")}</span>
              ) : (
                <span className="badge bad">{t("studio.editor.hashMismatch")}</span>
              )}
            </dd>
          </dl>
        </div>
      )}
      <div className="row">
        {number("editionSize")}
        <div className="field">
          <label htmlFor="draft-price">{t("studio.editor.price")}</label>
          <input
            id="draft-price"
            inputMode="decimal"
            value={fields.priceYuan}
            onChange={(e) => set("priceYuan", e.target.value)}
            aria-invalid={errors.priceFen !== undefined}
          />
          {errors.priceFen !== undefined && <p className="field-error">{errors.priceFen}</p>}
        </div>
      </div>
      <div className="row">
        {(["saleStartsAt", "saleEndsAt"] as const).map((key) => (
          <div className="field" key={key}>
            <label htmlFor={`draft-${key}`}>{t(`studio.editor.${key}`)}</label>
            <input
              id={`draft-${key}`}
              type="datetime-local"
              value={fields[key]}
              onChange={(e) => set(key, e.target.value)}
              aria-invalid={errors[key] !== undefined}
              aria-describedby={errors[key] !== undefined ? `draft-${key}-error` : undefined}
            />
            {errors[key] !== undefined && (
              <p className="field-error" id={`draft-${key}-error`}>
                {errors[key]}
              </p>
            )}
          </div>
        ))}
      </div>
      <div className="row">
        {number("perPersonLimit")}
        {number("lockDays")}
        {number("regiftDays")}
      </div>
      <FormError error={mutation.error} shown={DRAFT_FIELDS} />
      {fields.mediaSha256 === "" && <p className="hint">{t("studio.editor.needMedia")}</p>}
      <button type="submit" className="button" disabled={mutation.isPending || fields.mediaSha256 === ""}>
        {t("studio.editor.save")}
      </button>
      {mutation.isSuccess && <p role="status">{t("studio.editor.saved")}</p>}
    </form>
  );
}

function CollectionDetail() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const collectionId = Number(useParams().collectionId);
  const row = useQuery(trpc.studio.get.queryOptions({ collectionId }));
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.studio.get.queryKey({ collectionId }) });
    void queryClient.invalidateQueries({ queryKey: trpc.studio.list.queryKey() });
  };
  const submit = useMutation(trpc.studio.submit.mutationOptions({ onSuccess: refresh }));
  const publish = useMutation(trpc.studio.publish.mutationOptions({ onSuccess: refresh }));

  if (row.isLoading) return <Loading />;
  if (row.error) return <ErrorState error={row.error} onRetry={() => void row.refetch()} />;
  const c = row.data!;
  const editable = c.status === "draft" || c.status === "rejected";

  return (
    <div className="page">
      <Link to="/studio">{t("studio.detail.back")}</Link>
      <div className="card page">
        <h2 style={{ margin: 0 }}>
          {c.title}{" "}
          <span className={`badge ${STATUS_BADGE[c.status] ?? ""}`} data-testid="studio-status">
            {t(`studio.status.${c.status}`)}
          </span>
        </h2>
        {c.status === "rejected" && c.rejectionReason !== null && (
          <p className="notice">{t("studio.detail.rejectedBecause", { reason: c.rejectionReason })}</p>
        )}
        <p className="muted">
          {formatFen(c.priceFen)} · {t("studio.list.edition", { count: c.editionSize })} ·{" "}
          {formatDateTime(c.saleStartsAt, i18n.language)} – {formatDateTime(c.saleEndsAt, i18n.language)}
        </p>
        {c.contractAddress !== null && (
          <p className="mono">
            {t("studio.detail.contract")}: {c.contractAddress}
          </p>
        )}
        {c.status === "draft" && (
          <button
            type="button"
            className="button"
            onClick={() => submit.mutate({ collectionId })}
            disabled={submit.isPending}
          >
            {t("studio.detail.submit")}
          </button>
        )}
        {c.status === "approved" && new Date(c.saleStartsAt).getTime() >= Date.now() && (
          <button
            type="button"
            className="button"
            onClick={() => publish.mutate({ collectionId })}
            disabled={publish.isPending}
          >
            {publish.isPending ? t("studio.detail.publishing") : t("studio.detail.publish")}
          </button>
        )}
        {c.status === "approved" && (
          <PublishWindow
            row={c}
            refusal={publish.error}
            pending={publish.isPending}
            onPublish={(window) => publish.mutate({ collectionId, window })}
          />
        )}
        <FormError
          error={submit.error ?? publish.error}
          shown={editable || c.status === "approved" ? ["saleStartsAt", "saleEndsAt"] : []}
        />
      </div>
      {editable && <DraftEditor row={c} onSaved={refresh} refusal={submit.error} />}
      {c.status === "published" && (
        <>
          <SalesPanel collectionId={collectionId} />
          <AirdropPanel collectionId={collectionId} />
        </>
      )}
    </div>
  );
}

/**
 * An approved collection whose start passed during review (or was refused as passed at publication): the staff
 * choose a new start and end, each field saying its rule, and publish with them.
 */
export function PublishWindow({
  row,
  refusal,
  pending,
  onPublish,
}: {
  row: { saleStartsAt: Date | string; saleEndsAt: Date | string };
  refusal: unknown;
  pending: boolean;
  onPublish: (window: { saleStartsAt: Date; saleEndsAt: Date }) => void;
}) {
  const { t, i18n } = useTranslation();
  const starts = new Date(row.saleStartsAt).getTime();
  const length = new Date(row.saleEndsAt).getTime() - starts;
  const [fields, setFields] = useState(() => {
    const start = Math.max(Date.now() + 86_400_000, starts);
    return { saleStartsAt: toLocalInput(new Date(start)), saleEndsAt: toLocalInput(new Date(start + length)) };
  });
  const [pastStart, setPastStart] = useState(false);
  if (starts >= Date.now() && appErrorCode(refusal) !== "collection.startPassed") return null;
  const errors: Record<string, string> = {
    ...fieldErrors(refusal, i18n.language),
    ...(pastStart ? { saleStartsAt: t("studio.editor.startInPast") } : {}),
  };
  // The refusal of the old start names the new-start field's rule; said once, in the notice above the fields.
  if (appErrorCode(refusal) === "collection.startPassed") delete errors.saleStartsAt;

  function publish() {
    setPastStart(startsInPast(fields.saleStartsAt));
    if (startsInPast(fields.saleStartsAt)) return;
    onPublish({ saleStartsAt: fromLocalInput(fields.saleStartsAt), saleEndsAt: fromLocalInput(fields.saleEndsAt) });
  }

  return (
    <div className="page" data-testid="publish-window">
      <p className="notice" role="alert">
        {t("studio.detail.startPassed")}
      </p>
      <div className="row">
        {(["saleStartsAt", "saleEndsAt"] as const).map((key) => (
          <div className="field" key={key}>
            <label htmlFor={`publish-${key}`}>{t(`studio.editor.${key}`)}</label>
            <input
              id={`publish-${key}`}
              type="datetime-local"
              value={fields[key]}
              onChange={(e) => setFields((f) => ({ ...f, [key]: e.target.value }))}
              aria-invalid={errors[key] !== undefined}
            />
            {errors[key] !== undefined && <p className="field-error">{errors[key]}</p>}
          </div>
        ))}
      </div>
      <button type="button" className="button" onClick={publish} disabled={pending}>
        {pending ? t("studio.detail.publishing") : t("studio.detail.publishWithWindow")}
      </button>
    </div>
  );
}
