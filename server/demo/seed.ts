import { collections } from "../modules/catalog/tables.js";
import { appendAudit } from "../modules/audit/service.js";
import { creditCodeCheckCharacter } from "../modules/catalog/credit-code.js";
import { checkCharacter } from "../modules/kyc/id-number.js";
import type { Platform } from "../platform.js";
import { demoArtworks } from "./art.js";

/**
 * The demo `npm start` brings up: one museum with three approved and
 * published collections (artwork drawn locally), an operator, the museum's
 * staff account and two verified collectors. It goes through the same
 * services as the real flows, so every step is validated and audited.
 * The names and numbers are invented.
 */
export const DEMO_ACCOUNTS = {
  operator: "13800000001",
  issuerStaff: "13800000002",
  collector: "13800000003",
  secondCollector: "13800000004",
} as const;

const DAY = 86_400_000;

function demoIdNumber(birthDate: string, sequence: string): string {
  const first17 = `110101${birthDate}${sequence}`;
  return `${first17}${checkCharacter(first17)}`;
}

function demoCreditCode(): string {
  const first17 = "12110000MB0DEM001";
  return `${first17}${creditCodeCheckCharacter(first17)}`;
}

export interface DemoSummary {
  seeded: boolean;
  accounts: { role: string; phone: string; note: string }[];
  collections: { id: number; title: string }[];
}

export async function seedDemo(platform: Platform): Promise<DemoSummary> {
  const { db, identity, catalog, kyc } = platform;
  const accounts = [
    { role: "operator", phone: DEMO_ACCOUNTS.operator, note: "平台运营 / platform operator" },
    { role: "issuer_staff", phone: DEMO_ACCOUNTS.issuerStaff, note: "长安数字博物馆（演示）员工 / museum staff" },
    { role: "collector", phone: DEMO_ACCOUNTS.collector, note: "已实名 张三 / verified collector" },
    { role: "collector", phone: DEMO_ACCOUNTS.secondCollector, note: "已实名 李四 / verified collector" },
  ];
  const [existing] = await db.select({ id: collections.id }).from(collections).limit(1);
  if (existing !== undefined) return { seeded: false, accounts, collections: [] };

  const now = platform.clock();
  const { user: operator } = await identity.grantOperator(db, DEMO_ACCOUNTS.operator);
  const applicant = await identity.ensureAccount(db, DEMO_ACCOUNTS.issuerStaff);
  const issuer = await catalog.applyIssuer(db, applicant, {
    legalName: "长安数字博物馆（演示）",
    creditCode: demoCreditCode(),
  });
  await catalog.reviewIssuer(db, operator, { issuerId: issuer.id, approve: true });
  const staff = (await identity.findAccountByPhone(db, DEMO_ACCOUNTS.issuerStaff))!;

  const works = [
    {
      art: demoArtworks.landscape(),
      title: "青绿山水·千里",
      description: "以青绿设色描绘层峦叠嶂，致敬宋代青绿山水长卷。",
      creator: "长安数字博物馆 数字修复组",
      story: "青绿山水以石青、石绿为主色，层层罩染。本作品以算法重绘三重山势与一轮红日，限量发行。",
      editionSize: 1000,
      priceFen: 1990,
      perPersonLimit: 2,
      starts: now.getTime() - 60_000,
      ends: now.getTime() + 30 * DAY,
    },
    {
      art: demoArtworks.jadeDisc(),
      title: "玉璧·谷纹",
      description: "新石器时代至汉代礼器玉璧的数字再现。",
      creator: "长安数字博物馆 器物部",
      story: "璧，瑞玉也，圜形，中有孔。本作品以同心纹理模拟玉质的温润光泽。",
      editionSize: 300,
      priceFen: 3900,
      perPersonLimit: 1,
      starts: now.getTime() - 60_000,
      ends: now.getTime() + 30 * DAY,
    },
    {
      art: demoArtworks.waves(),
      title: "海水江崖纹",
      description: "取自清代吉服袍下摆的海水江崖纹样。",
      creator: "长安数字博物馆 纺织品部",
      story: "海水江崖寓意福山寿海、江山永固。本作品将纹样重构为层叠的波涛与山石。",
      editionSize: 500,
      priceFen: 990,
      perPersonLimit: 1,
      starts: now.getTime() + 2 * 3_600_000,
      ends: now.getTime() + 30 * DAY,
    },
  ];

  const published: { id: number; title: string }[] = [];
  for (const work of works) {
    const { sha256 } = await catalog.registerMedia(db, issuer.id, work.art);
    const draft = await catalog.createDraft(db, staff, issuer.id, {
      title: work.title,
      description: work.description,
      creator: work.creator,
      story: work.story,
      mediaSha256: sha256,
      editionSize: work.editionSize,
      priceFen: work.priceFen,
      // A sale may not start in the past: a work already on sale is drafted a minute ahead, then published to
      // open a second after publication.
      saleStartsAt: new Date(Math.max(work.starts, now.getTime() + 60_000)),
      saleEndsAt: new Date(work.ends),
      perPersonLimit: work.perPersonLimit,
      lockDays: 180,
      regiftDays: 730,
    });
    await catalog.submit(db, staff, issuer.id, draft.id);
    await catalog.review(db, operator, { collectionId: draft.id, approve: true });
    const opensNow =
      work.starts < now.getTime()
        ? { saleStartsAt: new Date(platform.clock().getTime() + 1_000), saleEndsAt: new Date(work.ends) }
        : undefined;
    await catalog.publish(db, staff, issuer.id, draft.id, opensNow);
    published.push({ id: draft.id, title: work.title });
  }

  const collectors = [
    { phone: DEMO_ACCOUNTS.collector, name: "张三", idNumber: demoIdNumber("19900307", "123") },
    { phone: DEMO_ACCOUNTS.secondCollector, name: "李四", idNumber: demoIdNumber("19881122", "456") },
  ];
  for (const person of collectors) {
    const account = await identity.ensureAccount(db, person.phone);
    await kyc.submit(db, account.id, { name: person.name, idNumber: person.idNumber });
  }

  await appendAudit(
    db,
    {
      actor: { userId: operator.id, role: "operator" },
      action: "demo.seeded",
      subject: { type: "issuer", id: issuer.id },
      details: { collections: published.map((c) => c.id) },
    },
    platform.clock(),
  );
  return { seeded: true, accounts, collections: published };
}
