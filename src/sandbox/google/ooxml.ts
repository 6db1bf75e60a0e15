// Minimal Office Open XML packages (ECMA-376 / ISO/IEC 29500) for files.export: a ZIP with
// [Content_Types].xml, the package relationships and the main part holding the file's text —
// WordprocessingML paragraphs, a SpreadsheetML sheet with shared strings, a PresentationML slide
// (with the slide master, layout and theme a presentation must have).
import { zip, type ZipEntry } from './zip.ts';

export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const S = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const P = 'http://schemas.openxmlformats.org/presentationml/2006/main';
const A = 'http://schemas.openxmlformats.org/drawingml/2006/main';
const CT = 'application/vnd.openxmlformats-officedocument';

/** Text content for XML: markup characters escaped, characters XML 1.0 does not allow dropped. */
export function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
    .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function contentTypes(overrides: Record<string, string>): ZipEntry {
  const parts = Object.entries(overrides).map(([part, type]) => `<Override PartName="${part}" ContentType="${type}"/>`).join('');
  return {
    name: '[Content_Types].xml',
    data: `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>${parts}</Types>`,
  };
}

function rels(name: string, targets: [type: string, target: string][]): ZipEntry {
  const list = targets.map(([type, target], i) => `<Relationship Id="rId${i + 1}" Type="${type}" Target="${target}"/>`).join('');
  return { name, data: `${XML}<Relationships xmlns="${PKG_REL}">${list}</Relationships>` };
}

const run = (text: string) => `<w:r><w:t xml:space="preserve">${xmlText(text)}</w:t></w:r>`;

/** A Word document: one paragraph per line. */
export function docx(lines: string[], modified: Date): Buffer {
  const paragraphs = lines.map((l) => (l === '' ? '<w:p/>' : `<w:p>${run(l)}</w:p>`)).join('');
  return zip(
    [
      contentTypes({ '/word/document.xml': `${CT}.wordprocessingml.document.main+xml` }),
      rels('_rels/.rels', [[`${REL}/officeDocument`, 'word/document.xml']]),
      { name: 'word/document.xml', data: `${XML}<w:document xmlns:w="${W}"><w:body>${paragraphs}<w:sectPr/></w:body></w:document>` },
    ],
    modified,
  );
}

function column(index: number): string {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

/** An Excel workbook with one sheet: rows of cells; numbers as numbers, text through shared strings. */
export function xlsx(rows: string[][], modified: Date): Buffer {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const sheetRows = rows
    .map((cells, r) => {
      const cs = cells.map((value, c) => {
        const ref = `${column(c)}${r + 1}`;
        if (/^-?\d+(\.\d+)?$/.test(value)) return `<c r="${ref}"><v>${value}</v></c>`;
        let i = index.get(value);
        if (i === undefined) index.set(value, (i = strings.push(value) - 1));
        return `<c r="${ref}" t="s"><v>${i}</v></c>`;
      });
      return `<row r="${r + 1}">${cs.join('')}</row>`;
    })
    .join('');
  const cellCount = rows.reduce((n, cells) => n + cells.filter((v) => !/^-?\d+(\.\d+)?$/.test(v)).length, 0);
  return zip(
    [
      contentTypes({
        '/xl/workbook.xml': `${CT}.spreadsheetml.sheet.main+xml`,
        '/xl/worksheets/sheet1.xml': `${CT}.spreadsheetml.worksheet+xml`,
        '/xl/sharedStrings.xml': `${CT}.spreadsheetml.sharedStrings+xml`,
      }),
      rels('_rels/.rels', [[`${REL}/officeDocument`, 'xl/workbook.xml']]),
      { name: 'xl/workbook.xml', data: `${XML}<workbook xmlns="${S}" xmlns:r="${REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>` },
      rels('xl/_rels/workbook.xml.rels', [[`${REL}/worksheet`, 'worksheets/sheet1.xml'], [`${REL}/sharedStrings`, 'sharedStrings.xml']]),
      { name: 'xl/worksheets/sheet1.xml', data: `${XML}<worksheet xmlns="${S}"><sheetData>${sheetRows}</sheetData></worksheet>` },
      { name: 'xl/sharedStrings.xml', data: `${XML}<sst xmlns="${S}" count="${cellCount}" uniqueCount="${strings.length}">${strings.map((s) => `<si><t xml:space="preserve">${xmlText(s)}</t></si>`).join('')}</sst>` },
    ],
    modified,
  );
}

const GROUP = '<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>';

function textBox(id: number, name: string, y: number, height: number, paragraphs: string[]): string {
  const ps = paragraphs.map((t) => (t === '' ? '<a:p/>' : `<a:p><a:r><a:rPr lang="en-US"/><a:t>${xmlText(t)}</a:t></a:r></a:p>`)).join('') || '<a:p/>';
  return `<p:sp><p:nvSpPr><p:cNvPr id="${id}" name="${name}"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr><p:spPr><a:xfrm><a:off x="457200" y="${y}"/><a:ext cx="8229600" cy="${height}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr><p:txBody><a:bodyPr wrap="square"/><a:lstStyle/>${ps}</p:txBody></p:sp>`;
}

const THEME_COLORS = [['dk1', '000000'], ['lt1', 'FFFFFF'], ['dk2', '1F497D'], ['lt2', 'EEECE1'], ['accent1', '4F81BD'], ['accent2', 'C0504D'], ['accent3', '9BBB59'], ['accent4', '8064A2'], ['accent5', '4BACC6'], ['accent6', 'F79646'], ['hlink', '0000FF'], ['folHlink', '800080']];
const solid = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>';
const THEME =
  `${XML}<a:theme xmlns:a="${A}" name="Sandbox"><a:themeElements>` +
  `<a:clrScheme name="Sandbox">${THEME_COLORS.map(([n, c]) => `<a:${n}><a:srgbClr val="${c}"/></a:${n}>`).join('')}</a:clrScheme>` +
  `<a:fontScheme name="Sandbox"><a:majorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont><a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont></a:fontScheme>` +
  `<a:fmtScheme name="Sandbox"><a:fillStyleLst>${solid.repeat(3)}</a:fillStyleLst>` +
  `<a:lnStyleLst>${'<a:ln w="9525"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln>'.repeat(3)}</a:lnStyleLst>` +
  `<a:effectStyleLst>${'<a:effectStyle><a:effectLst/></a:effectStyle>'.repeat(3)}</a:effectStyleLst>` +
  `<a:bgFillStyleLst>${solid.repeat(3)}</a:bgFillStyleLst></a:fmtScheme>` +
  `</a:themeElements></a:theme>`;

/** A PowerPoint presentation with one slide: the title and the text below it. */
export function pptx(title: string, lines: string[], modified: Date): Buffer {
  const ns = `xmlns:a="${A}" xmlns:r="${REL}" xmlns:p="${P}"`;
  const clrMap = 'bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"';
  return zip(
    [
      contentTypes({
        '/ppt/presentation.xml': `${CT}.presentationml.presentation.main+xml`,
        '/ppt/slides/slide1.xml': `${CT}.presentationml.slide+xml`,
        '/ppt/slideLayouts/slideLayout1.xml': `${CT}.presentationml.slideLayout+xml`,
        '/ppt/slideMasters/slideMaster1.xml': `${CT}.presentationml.slideMaster+xml`,
        '/ppt/theme/theme1.xml': `${CT}.theme+xml`,
      }),
      rels('_rels/.rels', [[`${REL}/officeDocument`, 'ppt/presentation.xml']]),
      {
        name: 'ppt/presentation.xml',
        data: `${XML}<p:presentation ${ns}><p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst><p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>`,
      },
      rels('ppt/_rels/presentation.xml.rels', [[`${REL}/slideMaster`, 'slideMasters/slideMaster1.xml'], [`${REL}/slide`, 'slides/slide1.xml'], [`${REL}/theme`, 'theme/theme1.xml']]),
      {
        name: 'ppt/slideMasters/slideMaster1.xml',
        data: `${XML}<p:sldMaster ${ns}><p:cSld><p:spTree>${GROUP}</p:spTree></p:cSld><p:clrMap ${clrMap}/><p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>`,
      },
      rels('ppt/slideMasters/_rels/slideMaster1.xml.rels', [[`${REL}/slideLayout`, '../slideLayouts/slideLayout1.xml'], [`${REL}/theme`, '../theme/theme1.xml']]),
      { name: 'ppt/slideLayouts/slideLayout1.xml', data: `${XML}<p:sldLayout ${ns} type="blank" preserve="1"><p:cSld name="Blank"><p:spTree>${GROUP}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>` },
      rels('ppt/slideLayouts/_rels/slideLayout1.xml.rels', [[`${REL}/slideMaster`, '../slideMasters/slideMaster1.xml']]),
      {
        name: 'ppt/slides/slide1.xml',
        data: `${XML}<p:sld ${ns}><p:cSld><p:spTree>${GROUP}${textBox(2, 'Title', 457200, 1143000, [title])}${textBox(3, 'Text', 1828800, 4572000, lines)}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>`,
      },
      rels('ppt/slides/_rels/slide1.xml.rels', [[`${REL}/slideLayout`, '../slideLayouts/slideLayout1.xml']]),
      { name: 'ppt/theme/theme1.xml', data: THEME },
    ],
    modified,
  );
}
